"""Trajectories of real `eval-agent run`s (real Docker, the scripted OpenAI-compatible server):
the index while a run goes, SIGKILL then reindex, show, rate, replay and resume."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

from conftest import cli_env, eval_agent_containers, json_events, run_cli
from eval_agent.trajectory.store import index_path

PLAN = {"content": "- [ ] do it\n- [ ] check it"}


def bash(command: str, content: str = "") -> dict:
    return {"tool": "bash", "args": {"command": command}, "content": content}


def finish(summary: str = "done") -> dict:
    return {"tool": "finish", "args": {"summary": summary}}


def run_events(args: list[str], env: dict, workspace) -> list[dict]:
    result = run_cli(["run", *args, "--model", "openai:demo", "--json", "-w", str(workspace)], env)
    assert result.returncode == 0, result.stderr
    return json_events(result.stdout)


def index_row(home, run_id: str) -> dict | None:
    db = sqlite3.connect(index_path(home))
    db.row_factory = sqlite3.Row
    row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    db.close()
    return dict(row) if row else None


def test_sigkill_mid_run_leaves_a_readable_incomplete_record_and_reindex_rebuilds(
        tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN, bash("echo before-the-kill"), bash("echo started; sleep 60"), finish()])
    process = subprocess.Popen([sys.executable, "-m", "eval_agent", "run", "x", "--model", "openai:demo", "--json",
                                "-w", str(tmp_path)], env=cli_env(eval_home, server), stdout=subprocess.PIPE, text=True)
    events = []
    for line in process.stdout:
        events.append(json.loads(line))
        if events[-1]["type"] == "tool_started" and events[-1]["step"] == 2:
            break
    run_id, session_id = events[0]["run_id"], events[0]["session_id"]
    row = index_row(eval_home, run_id)
    assert row["status"] == "running" and row["steps"] == 1, "the index follows the run as it goes"
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    try:
        record = eval_home / "trajectories" / f"{run_id}.jsonl"
        lines = [json.loads(line) for line in record.read_text().splitlines()]
        assert lines[-1]["type"] == "tool_started" and lines[-1]["step"] == 2, "every event up to the kill was fsynced"
        env = cli_env(eval_home)
        listed = json.loads(run_cli(["traj", "ls", "--json"], env).stdout)
        assert listed["run_id"] == run_id and listed["status"] == "incomplete"
        index_path(eval_home).unlink()
        rebuilt = run_cli(["traj", "reindex"], env)
        assert rebuilt.returncode == 0 and "indexed 1 runs" in rebuilt.stdout and "1 incomplete" in rebuilt.stdout
        row = index_row(eval_home, run_id)
        assert (row["status"], row["steps"], row["request"]) == ("incomplete", 1, "x")
        shown = run_cli(["traj", "show", run_id], env)
        assert shown.returncode == 0 and "before-the-kill" in shown.stdout and "killed or crashed" in shown.stdout
    finally:  # a SIGKILLed run cannot remove its container: remove this one (only this one)
        for container in eval_agent_containers(session_id):
            container.remove(force=True)


def test_show_and_rate_a_real_run(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN, bash("printf 'line-%s\\n' 1 2 3", "Printing lines."), finish("Printed three lines.")])
    events = run_events(["print lines"], cli_env(eval_home, server), tmp_path)
    run_id = events[0]["run_id"]
    env = cli_env(eval_home, COLUMNS="120")
    shown = run_cli(["traj", "show", run_id[:12]], env)  # a unique prefix is enough
    assert shown.returncode == 0, shown.stderr
    for text in ("request: print lines", "step 1 · bash", "Printing lines.", "line-3", "Printed three lines.", "[ ] do it"):
        assert text in shown.stdout
    rated = run_cli(["traj", "rate", "last", "good", "--comment", "clean and short"], env)
    assert rated.returncode == 0 and f"rated {run_id} good" in rated.stdout
    listed = json.loads(run_cli(["traj", "ls", "--json", "--rating", "good"], env).stdout)
    assert (listed["run_id"], listed["rating"], listed["rating_comment"]) == (run_id, "good", "clean and short")
    assert listed["steps"] == 2 and listed["input_tokens"] > 0 and listed["status"] == "finished"
    bad = run_cli(["traj", "rate", run_id, "great"], env)
    assert bad.returncode == 2 and "use good or bad" in bad.stderr


def test_replay_reports_the_observation_that_changed(tmp_path, eval_home, scripted_server, sandbox_image):
    (tmp_path / "data.txt").write_text("recorded-content\n")
    server = scripted_server([PLAN, bash("cat data.txt"), bash("head -c 12 /dev/urandom | od -An -tx1"),
                              bash("echo changed > data.txt"), finish()])
    events = run_events(["look around"], cli_env(eval_home, server), tmp_path)
    run_id = events[0]["run_id"]
    replayed = run_cli(["traj", "replay", run_id], cli_env(eval_home, COLUMNS="120"), timeout=240)
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    lines = replayed.stdout.splitlines()
    assert "step 1 bash same" in lines, "data.txt is read from the run's base commit, not the changed folder"
    assert "step 2 bash DIFFERS" in lines and "step 3 bash same" in lines
    assert any(line.startswith("  -") for line in lines) and any(line.startswith("  +") for line in lines)
    assert "1 of 4 observations differ" in replayed.stdout and "fresh checkout" in replayed.stdout
    assert (tmp_path / "data.txt").read_text() == "changed\n", "replay never touches the workspace"


def test_resume_continues_the_recorded_conversation(tmp_path, eval_home, scripted_server, sandbox_image):
    first_server = scripted_server([PLAN, bash("echo 42 > answer.txt", "Writing the answer."), finish("wrote it")])
    first = run_events(["write the answer to answer.txt"], cli_env(eval_home, first_server), tmp_path)
    first_id = first[0]["run_id"]
    server = scripted_server([{"content": "- [ ] read it back"}, bash("cat answer.txt"), finish("it is 42")])
    second = run_events(["now read it back", "--resume", first_id], cli_env(eval_home, server), tmp_path)
    assert second[0]["resumed_from"] == first_id and second[0]["follow_up"] is True
    sent = server.requests[0]["messages"]
    assert sent[0]["role"] == "system"
    assert any(m["role"] == "user" and "write the answer to answer.txt" in m["content"] for m in sent)
    assert any(m["role"] == "assistant" and m.get("content") == "Writing the answer." for m in sent)
    assert any(m["role"] == "tool" and m["content"].strip() == "wrote it" for m in sent), "the last result is kept"
    assert "now read it back" in sent[-1]["content"]
    # the new record is self-contained: its first model call carries the whole resumed conversation
    record = [json.loads(line) for line in open(second[-1]["record"])]
    first_call = next(event for event in record if event["type"] == "model_called")
    assert len(first_call["new_messages"]) == len(sent)
    listed = [json.loads(line) for line in run_cli(["traj", "ls", "--json"], cli_env(eval_home)).stdout.splitlines()]
    assert [row["resumed_from"] for row in listed] == [None, first_id]
    missing = run_cli(["run", "x", "--model", "openai:demo", "--resume", "no-such-run", "-w", str(tmp_path)],
                      cli_env(eval_home, server))
    assert missing.returncode == 2 and "no run 'no-such-run'" in missing.stderr and "Traceback" not in missing.stderr
