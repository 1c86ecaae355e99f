"""`eval-agent bench` end to end: the real CLI, real Docker (task images, sandboxes, verifiers),
the scripted OpenAI-compatible server for model runs, and the shipped tasks under the oracle."""

from __future__ import annotations

import hashlib
import json
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker

from conftest import ROOT, cli_env, run_cli
from test_bench_tasks import make_harbor_task, make_terminal_bench_task

SHIPPED = ROOT / "tasks"
RESULT_FIELDS = {"task", "attempt", "passed", "reward", "steps", "tokens", "cost", "seconds", "run_id", "error"}


def results(folder: Path) -> list[dict]:
    path = folder / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def record(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def bench_containers(image_prefix: str) -> list:
    client = docker.from_env()
    found = client.containers.list(all=True, filters={"label": "eval-agent=1", "name": "eval-agent-bench-"},
                                   ignore_removed=True)
    return [c for c in found if c.attrs["Config"]["Image"].startswith(image_prefix)]


def test_the_oracle_passes_every_shipped_task_and_doing_nothing_fails_them(tmp_path, eval_home, sandbox_image):
    oracle_out, nop_out = tmp_path / "oracle", tmp_path / "nop"
    done = run_cli(["bench", str(SHIPPED), "--agent", "oracle", "-j", "2", "--out", str(oracle_out)],
                   cli_env(eval_home), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = results(oracle_out)
    assert len(rows) >= 12 and all(RESULT_FIELDS <= row.keys() for row in rows)
    failed = [(row["task"], row["error"]) for row in rows if not row["passed"]]
    assert not failed, failed
    assert all(row["reward"] == 1.0 and row["steps"] == 2 and row["run_id"] for row in rows)
    summary = (oracle_out / "summary.md").read_text()
    assert f"{len(rows)}/{len(rows)} = 100.0%" in summary and "## By category" in summary
    assert "pass rate" in done.stdout

    # the untouched environment: every task's tests fail (and are judged, not errors)
    done = run_cli(["bench", str(SHIPPED), "--agent", "nop", "-j", "2", "--out", str(nop_out)],
                   cli_env(eval_home), timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    rows = results(nop_out)
    passed = [row["task"] for row in rows if row["passed"] or row["error"]]
    assert len(rows) >= 12 and not passed, passed
    assert all(row["reward"] == 0.0 for row in rows)


def test_a_model_that_solves_passes_and_one_that_fakes_the_reward_fails(tmp_path, eval_home, scripted_server, sandbox_image):
    make_harbor_task(tmp_path / "tasks")
    # attempt 1 looks for the tests first (they must not be there yet), then solves;
    # attempt 2 writes a wrong answer and a reward file of its own, which must not count
    server = scripted_server([
        {"content": "- [ ] look around\n- [ ] answer", "tool": "bash",
         "args": {"command": "ls /tests /logs/verifier 2>&1; echo 42 > /app/answer.txt"}},
        {"tool": "finish", "args": {"summary": "wrote 42"}},
        {"tool": "bash", "args": {"command": "echo 41 > /app/answer.txt; mkdir -p /logs/verifier; "
                                             "echo 1 > /logs/verifier/reward.txt"}},
        {"tool": "finish", "args": {"summary": "wrote 41"}},
    ])
    out = tmp_path / "out"
    done = run_cli(["bench", str(tmp_path / "tasks"), "--model", "openai:demo", "--attempts", "2", "--out", str(out)],
                   cli_env(eval_home, server))
    assert done.returncode == 1, done.stdout + done.stderr
    first, second = results(out)
    assert (first["attempt"], first["passed"], first["reward"], first["steps"]) == (1, True, 1.0, 2)
    assert (second["attempt"], second["passed"], second["reward"]) == (2, False, 0.0)
    assert first["tokens"] > 0 and first["tokens"] == first["input_tokens"] + first["output_tokens"]
    assert first["model"] == "openai:demo" and first["error"] is None

    events = record(first["record"])
    started = next(e for e in events if e["type"] == "run_started")
    assert started["task"]["id"] == "answer-file" and started["task"]["attempt"] == 1
    assert started["sandbox"]["workdir"] == "/app" and started["workspace"]["path"] == ""
    looked = next(e for e in events if e["type"] == "tool_finished")
    assert "cannot access '/tests'" in looked["full_output"]
    assert "cannot access '/logs/verifier'" in looked["full_output"]
    verification = events[-1]
    assert verification["type"] == "verification" and verification["passed"] is True
    assert verification["reward"] == 1.0 and verification["command"] == "bash /tests/test.sh"
    assert events.index(verification) > [e["type"] for e in events].index("run_finished")
    assert record(second["record"])[-1]["passed"] is False
    assert "1/2 = 50.0%" in (out / "summary.md").read_text()

    # the verified label is what export selects on
    dataset = tmp_path / "verified.jsonl"
    done = run_cli(["export", "--format", "openai", "--out", str(dataset), "--verified"], cli_env(eval_home))
    assert done.returncode == 0, done.stdout + done.stderr
    exported = dataset.read_text().splitlines()
    assert len(exported) == 1 and "echo 42" in exported[0] and "echo 41" not in exported[0]


def test_the_oracle_copies_solution_files_and_tests_too_large_for_one_exec(tmp_path, eval_home, sandbox_image):
    from eval_agent.bench.container_files import ARG_LIMIT

    folder = make_harbor_task(tmp_path / "tasks", "large-tests")  # one name: the image is cached, not left behind
    blob = secrets.token_bytes(ARG_LIMIT)  # over the limit once in base64: goes by archive
    (folder / "tests" / "data" / "blob.bin").parent.mkdir()
    (folder / "tests" / "data" / "blob.bin").write_bytes(blob)
    (folder / "tests" / "blob.sha256").write_text(f"{hashlib.sha256(blob).hexdigest()}  /tests/data/blob.bin\n")
    test_sh = folder / "tests" / "test.sh"
    test_sh.write_text(test_sh.read_text().replace("if cmp", "if sha256sum -c --quiet /tests/blob.sha256 && "
                                                   "[ -x /tests/test.sh ] && cmp"))
    out = tmp_path / "out"
    done = run_cli(["bench", str(tmp_path / "tasks"), "--agent", "oracle", "--out", str(out)], cli_env(eval_home))
    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = results(out)
    assert row["passed"] and row["reward"] == 1.0


def test_terminal_bench_tasks_an_unpullable_base_and_resuming(tmp_path, eval_home, sandbox_image):
    tasks = tmp_path / "tasks"
    make_terminal_bench_task(tasks, "tb-offline", base="registry.invalid/eval-agent/missing:1")
    make_terminal_bench_task(tasks, "tb-yaml", solution="yaml")
    out = tmp_path / "out"
    env = cli_env(eval_home)

    done = run_cli(["bench", str(tasks), "--agent", "oracle", "--out", str(out)], env)
    assert done.returncode == 1
    rows = {row["task"]: row for row in results(out)}
    assert rows["tb-yaml"]["passed"] and rows["tb-yaml"]["steps"] == 3
    assert not rows["tb-offline"]["passed"] and "--base-image" in rows["tb-offline"]["error"]

    # the rerun retries only what could not be judged; --base-image builds the task offline
    done = run_cli(["bench", str(tasks), "--agent", "oracle", "--out", str(out), "--base-image", sandbox_image], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 done before" in done.stderr
    lines = results(out)
    assert len(lines) == 3 and lines[-1]["task"] == "tb-offline" and lines[-1]["passed"]
    assert lines[-1]["reward"] == 1.0

    # nothing left to do; then a second attempt each
    done = run_cli(["bench", str(tasks), "--agent", "oracle", "--out", str(out), "--base-image", sandbox_image], env)
    assert done.returncode == 0 and len(results(out)) == 3
    done = run_cli(["bench", str(tasks), "--agent", "oracle", "--out", str(out), "--base-image", sandbox_image,
                    "--attempts", "2"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted((r["task"], r["attempt"]) for r in results(out)[3:]) == [("tb-offline", 2), ("tb-yaml", 2)]

    # another agent in the same folder is refused
    done = run_cli(["bench", str(tasks), "--agent", "nop", "--out", str(out)], env)
    assert done.returncode == 2 and "pass another --out" in done.stderr


def sleeping(home: Path, tag: str) -> list[Path]:
    """The records of the runs of tasks named tag-* that have started their first command."""
    found = []
    for path in (home / "trajectories").glob("*.jsonl"):
        text = path.read_text()
        if f'"id": "{tag}-' in text and '"tool_started"' in text:
            found.append(path)
    return found


def test_ctrl_c_stops_the_attempts_and_leaves_no_container(tmp_path, eval_home, sandbox_image):
    tag = f"sleepy-{secrets.token_hex(3)}"
    tasks = tmp_path / "tasks"
    make_harbor_task(tasks, f"{tag}-a")
    make_harbor_task(tasks, f"{tag}-b")
    script = tmp_path / "sleep.json"
    script.write_text(json.dumps([{"tool": "bash", "args": {"command": "sleep 300"}}]))
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "eval_agent", "bench", str(tasks), "--model", f"scripted:{script}", "-j", "2",
         "--out", str(out)], env=cli_env(eval_home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(sleeping(eval_home, tag)) < 2 and time.monotonic() < deadline:  # both agents in `sleep 300`
        assert process.poll() is None, process.communicate()
        time.sleep(0.3)
    assert len(sleeping(eval_home, tag)) == 2
    assert len(bench_containers(f"eval-agent-task-{tag}")) == 2
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    assert time.monotonic() - started < 30
    assert not bench_containers(f"eval-agent-task-{tag}")
    assert results(out) == [], "interrupted attempts are not results: a rerun does them again"
    records = [record(str(path)) for path in (eval_home / "trajectories").glob("*.jsonl")]
    finished = [next(e for e in events if e["type"] == "run_finished") for events in records
                if events[1]["task"]["id"].startswith(tag)]
    assert [e["status"] for e in finished] == ["interrupted", "interrupted"]
    client = docker.from_env()
    for image in client.images.list(filters={"label": "eval-agent=1"}):  # this test's task images
        if any(name.startswith(f"eval-agent-task-{tag}") for name in image.tags):
            client.images.remove(image.id, force=True)


def test_task_images_are_cached_by_their_build_context(tmp_path, sandbox_image):
    from eval_agent.bench.images import task_image
    from eval_agent.bench.tasks import load_task
    from eval_agent.sandbox.engine import docker_client

    client = docker_client()
    folder = make_harbor_task(tmp_path, f"cached-{secrets.token_hex(3)}")
    (folder / "environment" / "data.txt").write_text("one\n")
    (folder / "environment" / "Dockerfile").write_text(f"FROM {sandbox_image}\nWORKDIR /app\nCOPY data.txt /app/\n")
    tags = []
    try:
        first = task_image(load_task(folder), client)
        tags.append(first)
        image_id = client.images.get(first).id
        assert task_image(load_task(folder), client) == first  # same context: same image, no build
        assert client.images.get(first).id == image_id
        (folder / "environment" / "data.txt").write_text("two\n")
        second = task_image(load_task(folder), client)
        tags.append(second)
        assert second != first and second.split(":")[0] == first.split(":")[0]
        labels = client.images.get(second).attrs["Config"]["Labels"]
        assert labels["eval-agent"] == "1" and labels["eval-agent.task"] == folder.name
        assert not client.images.list(name=first), "the stale image of the task is removed"
    finally:
        for tag in tags:
            if client.images.list(name=tag):
                client.images.remove(tag, force=True)


def test_the_time_limit_holds_even_for_one_long_command(tmp_path, eval_home, sandbox_image):
    make_harbor_task(tmp_path / "tasks")
    script = tmp_path / "slow.json"
    script.write_text(json.dumps([{"tool": "bash", "args": {"command": "sleep 100", "timeout": 600}}]))
    out = tmp_path / "out"
    started = time.monotonic()
    done = run_cli(["bench", str(tmp_path / "tasks"), "--model", f"scripted:{script}", "--timeout", "3",
                    "--out", str(out)], cli_env(eval_home))
    assert done.returncode == 1, done.stdout + done.stderr
    assert time.monotonic() - started < 40
    (row,) = results(out)
    assert row["status"] == "limit" and not row["passed"] and row["reward"] == 0.0 and row["error"] is None
    step = next(e for e in record(row["record"]) if e["type"] == "tool_finished")
    assert step["timed_out"] and step["duration"] < 10
