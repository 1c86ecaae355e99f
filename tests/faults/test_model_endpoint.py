"""The model endpoint failing in every way, end to end through `eval-agent run` and the real openai
client: refused, 500s, 429 with Retry-After, a stream cut in the middle of a tool call, a body
that is not JSON, an answer slower than the timeout. Transient faults are retried; past the
retries the run ends with one line and exit code 3, never a traceback, and the record says what
happened."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from conftest import PLAN, bash, cli_env, finish, json_events, run_cli


def record_of(home: Path) -> list[dict]:
    paths = list((home / "trajectories").glob("*.jsonl"))
    assert len(paths) == 1
    return [json.loads(line) for line in paths[0].read_text().splitlines()]


def ended_cleanly(result, home: Path, says: str) -> dict:
    assert result.returncode == 3, (result.stdout[-600:], result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], result.stderr
    finished = record_of(home)[-1]
    assert finished["type"] == "run_finished" and finished["status"] == "error" and says in finished["reason"]
    return finished


def run(ws: Path, env: dict, *extra: str):
    return run_cli(["run", "say hi", "--model", "openai:demo", "-w", str(ws), *extra], env, timeout=120)


@pytest.fixture
def ws(tmp_path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    return folder


def test_connection_refused_is_one_line(ws, eval_home):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = cli_env(eval_home, OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", OPENAI_API_KEY="sk-test-0123456789abcdefghijkl")
    ended_cleanly(run(ws, env), eval_home, f"127.0.0.1:{port}")


def test_server_errors_are_retried_then_the_run_ends_cleanly(ws, eval_home, scripted_server, sandbox_image):
    server = scripted_server([{"status": 500}, PLAN, bash("echo ok")] + [{"status": 500}] * 4)
    finished = ended_cleanly(run(ws, cli_env(eval_home, server)), eval_home, "gave up after 4 attempts")
    assert finished["steps"] == 1  # the step before the outage is kept
    calls = [e for e in record_of(eval_home) if e["type"] == "model_called"]
    assert calls[0]["retries"] == 1, "the first 500 was retried and counted"


def test_rate_limit_waits_for_retry_after_then_goes_on(ws, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN, {"status": 429, "headers": {"Retry-After": "2"}}, bash("echo ok"), finish("hi")])
    started = time.monotonic()
    result = run(ws, cli_env(eval_home, server), "--json")
    assert result.returncode == 0, result.stderr
    calls = [e for e in json_events(result.stdout) if e["type"] == "model_called"]
    assert [call["retries"] for call in calls] == [0, 1, 0]
    assert time.monotonic() - started >= 2, "Retry-After was honoured"


def test_a_stream_cut_in_the_middle_of_a_tool_call_does_not_crash_the_run(ws, eval_home, scripted_server, sandbox_image):
    cut = {**bash("echo " + "x" * 200), "cut_after": 2}
    server = scripted_server([PLAN, cut, bash("echo after-the-cut"), finish("hi")])
    result = run(ws, cli_env(eval_home, server), "--json")
    assert "Traceback" not in result.stderr
    events = json_events(result.stdout)
    if result.returncode == 0:  # retried, or the broken call was fed back as a bad action
        assert any("after-the-cut" in (e.get("observation") or "") for e in events if e["type"] == "tool_finished")
    else:
        ended_cleanly(result, eval_home, "stream")


def test_a_body_that_is_not_json_ends_cleanly(ws, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN] + [{"garbage": "<html>502 Bad Gateway</html>"}] * 4)
    result = run(ws, cli_env(eval_home, server))
    assert result.returncode == 3, (result.stdout[-500:], result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1
    assert record_of(eval_home)[-1]["status"] == "error"


def test_an_answer_slower_than_the_timeout_is_retried_then_given_up(ws, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN] + [{"content": "late", "delay": 3}] * 4)
    env = cli_env(eval_home, server, EVAL_AGENT_MODEL_TIMEOUT="1")
    ended_cleanly(run(ws, env), eval_home, "did not answer within 1 s")
