"""The gym against the real engine: every family's tasks validate (their tests fail untouched and
pass after their solution), tasks of one family have different answers, generation is
reproducible and resumable, a folder of tasks is validated and counted, a model synthesises tasks
(through the scripted OpenAI-compatible server), and bench and export select by family."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import docker
import pytest

from conftest import ROOT, cli_env, run_cli
from eval_agent.bench.tasks import discover
from eval_agent.gym.generate import answer_key
from eval_agent.gym.registry import all_families
from eval_agent.gym.spec import DIFFICULTIES
from eval_agent.gym.validate import Validator

FAMILIES = sorted(all_families())


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_at_least_25_families_across_what_users_ask(eval_home):
    assert len(FAMILIES) >= 25, FAMILIES
    categories = {family.category for family in all_families().values()}
    for wanted in ("text", "data", "python", "shell", "c", "bugfix", "testing", "refactor", "git", "web",
                   "config", "sysadmin", "logs", "performance"):
        assert wanted in categories, f"no family of category {wanted}"
    listed = run_cli(["tasks", "families"], cli_env(eval_home))
    assert listed.returncode == 0 and all(name in listed.stdout for name in FAMILIES)


@pytest.mark.parametrize("name", FAMILIES)
def test_each_familys_tasks_differ_and_read_like_requests(name):
    family = all_families()[name]
    tasks = [family.generate(random.Random(f"t:{name}:{i}"), DIFFICULTIES[i % 3]) for i in range(12)]
    assert len({answer_key(task) for task in tasks}) >= 11, "tasks of one family have different answers"
    assert len({task.instruction for task in tasks}) == 12
    openings = {task.instruction.split()[0] for task in tasks} | {task.instruction[:40] for task in tasks}
    assert len(openings) > 2, "instructions are not one template with blanks"
    for task in tasks:
        assert task.family == name and task.difficulty in DIFFICULTIES and task.tests.strip()
        assert "/app" in task.instruction or "app/" in task.instruction or task.category in ("sysadmin", "git")


def test_every_family_validates_in_docker_and_no_tasks_solution_solves_a_sibling(tmp_path, eval_home, sandbox_image):
    """CI's sample: two tasks of every family (easy and medium, then hard for the first ones), each
    validated in its container by `tasks generate`; then a task's solution against a sibling's tests."""
    out = tmp_path / "gym"
    done = run_cli(["tasks", "generate", "--out", str(out), "-n", str(2 * len(FAMILIES)), "--seed", "7", "-j", "2"],
                   cli_env(eval_home), timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"wrote {2 * len(FAMILIES)} tasks" in done.stdout
    tasks = discover([out])
    by_family: dict[str, list] = {}
    for task in tasks:
        by_family.setdefault(task.family, []).append(task)
    assert sorted(by_family) == FAMILIES and all(len(found) == 2 for found in by_family.values())
    validator = Validator(separate=False)
    solved = {name: validator.solves(first, second) for name, (first, second) in by_family.items()}
    assert not any(solved.values()), f"a solution passes another task's tests: {solved}"


def test_generation_is_reproducible_resumable_and_shares_one_image(tmp_path, eval_home, sandbox_image):
    env = cli_env(eval_home)
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        done = run_cli(["tasks", "generate", "--out", str(out), "-n", "3", "--family", "csv-aggregate", "--seed", "3",
                        "--no-validate"], env)
        assert done.returncode == 0, done.stderr
    assert [folder_digest(first / name.name) for name in sorted(first.iterdir())] == \
        [folder_digest(second / name.name) for name in sorted(second.iterdir())], "the same seed, the same tasks"
    again = run_cli(["tasks", "generate", "--out", str(first), "-n", "5", "--family", "csv-aggregate", "--seed", "3"], env)
    assert again.returncode == 0 and "wrote 2 tasks" in again.stdout and "kept 3" in again.stdout
    tasks = discover([first])
    assert len({task.thin.base for task in tasks}) == 1, "one family, one environment to build"
    oracle = run_cli(["bench", str(first), "--agent", "oracle", "-j", "2", "--out", str(tmp_path / "o")], env)
    assert oracle.returncode == 0, oracle.stdout[-2000:]
    tags = [tag for image in docker.from_env().images.list() for tag in image.tags]
    assert any(tag.startswith("eval-agent-task-base:") for tag in tags)
    assert not any(tag.startswith("eval-agent-task-csv-aggregate") for tag in tags), "no image per task"


def test_validate_names_what_is_wrong_and_ls_counts(tmp_path, eval_home, sandbox_image):
    env = cli_env(eval_home)
    out = tmp_path / "tasks"
    assert run_cli(["tasks", "generate", "--out", str(out), "-n", "3", "--family", "csv-aggregate",
                    "--no-validate"], env).returncode == 0
    broken, lazy, fine = sorted(out.iterdir())
    (broken / "solution" / "solve.sh").write_text("#!/bin/bash\ntrue\n")
    (lazy / "tests" / "test_outputs.py").write_text("def test_nothing():\n    pass\n")
    done = run_cli(["tasks", "validate", str(out)], env)
    assert done.returncode == 1
    assert f"BAD  {broken.name}: the solution fails its tests" in done.stdout
    assert f"BAD  {lazy.name}: the tests pass with nothing done" in done.stdout
    assert f"ok   {fine.name}" in done.stdout and "1 of 3 tasks are sound" in done.stdout
    shipped = run_cli(["tasks", "ls", str(ROOT / "tasks")], env)
    assert shipped.returncode == 0 and "15 tasks" in shipped.stdout and "sysadmin" in shipped.stdout


def test_a_model_synthesises_tasks_and_only_sound_ones_are_kept(tmp_path, eval_home, scripted_server, sandbox_image):
    task = {"instruction": "/app/calc.py has a bug: add(a, b) must return the sum of a and b. Fix it.",
            "files": {"calc.py": "def add(a, b):\n    return a - b\n"},
            "solution": "sed -i 's/a - b/a + b/' calc.py",
            "tests": "import sys\nsys.path.insert(0, '/app')\nfrom calc import add\n\n\ndef test_add():\n"
                     "    assert add(2, 3) == 5 and add(-1, 1) == 0\n",
            "category": "bugfix", "difficulty": "easy", "tags": ["python"]}
    server = scripted_server([
        {"content": "Here is a task for you!"},  # not JSON: sent back with the reason
        {"content": json.dumps(task)},
        {"content": "```json\n" + json.dumps({**task, "solution": "true"}) + "\n```"},  # unsound: not kept
    ])
    out = tmp_path / "synth"
    done = run_cli(["tasks", "synthesize", "--from", str(ROOT / "tasks"), "-n", "2", "--out", str(out),
                    "--model", "openai:writer"], cli_env(eval_home, server), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kept 1 of 2 tasks" in done.stdout and "1 were not sound" in done.stdout
    assert "could not be used: it is not one JSON object" in json.dumps(server.requests[1]["messages"])
    assert "Example task" in server.requests[0]["messages"][0]["content"]
    (kept,) = discover([out])
    assert kept.family.startswith("synth-") and "synthesized" in kept.tags


def test_bench_and_export_select_by_family(tmp_path, eval_home, sandbox_image):
    env = cli_env(eval_home)
    out = tmp_path / "mixed"
    assert run_cli(["tasks", "generate", "--out", str(out), "-n", "2", "--family", "csv-aggregate",
                    "--no-validate"], env).returncode == 0
    for shipped in ("word-frequency", "json-filter"):
        (out / shipped).symlink_to(ROOT / "tasks" / shipped)
    held_out = run_cli(["bench", str(out), "--agent", "oracle", "--exclude-family", "csv-aggregate",
                        "--out", str(tmp_path / "held")], env)
    assert held_out.returncode == 0 and "2/2" in held_out.stdout, held_out.stdout
    train = run_cli(["bench", str(out), "--agent", "oracle", "--family", "csv-aggregate",
                     "--out", str(tmp_path / "train")], env)
    assert train.returncode == 0 and "2/2" in train.stdout
    summary = (tmp_path / "train" / "summary.md").read_text()
    assert "## By family" in summary and "| csv-aggregate | 2 | 2 | 100.0% |" in summary
    exported = tmp_path / "train.jsonl"
    done = run_cli(["export", "--format", "openai", "--out", str(exported), "--verified", "--family", "csv-aggregate"], env)
    assert done.returncode == 0, done.stderr
    assert len(exported.read_text().splitlines()) == 2
    listed = run_cli(["traj", "ls", "--json", "--exclude-family", "csv-aggregate"], env)
    assert {json.loads(line)["task_id"] for line in listed.stdout.splitlines()} == {"word-frequency", "json-filter"}
    nothing = run_cli(["bench", str(out), "--agent", "oracle", "--family", "no-such-family", "--out", str(tmp_path / "x")], env)
    assert nothing.returncode == 2 and "no task is left" in nothing.stderr
