"""Cost and time limits stop a run with exit code 1; `eval-agent doctor` reports each part."""

from __future__ import annotations

from conftest import cli_env, json_events, run_cli

PLAN = {"content": "- [ ] loop", "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 0}}


def expensive_bash(command: str) -> dict:
    return {"tool": "bash", "args": {"command": command}, "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 0}}


def test_cost_limit_stops_the_run(tmp_path, eval_home, scripted_server, sandbox_image):
    # gpt-4o-mini costs $0.15 per million input tokens: each scripted answer costs $0.15
    server = scripted_server([PLAN] + [expensive_bash(f"echo {i}") for i in range(5)])
    result = run_cli(["run", "x", "--model", "openai:gpt-4o-mini", "--max-cost", "0.4", "--json", "-w", str(tmp_path)],
                     cli_env(eval_home, server))
    assert result.returncode == 1, result.stderr
    finished = json_events(result.stdout)[-1]
    assert finished["status"] == "limit" and "cost limit" in finished["reason"]
    assert abs(finished["cost"] - 0.45) < 1e-9 and finished["steps"] == 2


def test_unknown_price_means_unknown_cost_not_a_crash(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN, expensive_bash("true"), {"tool": "finish", "args": {"summary": "ok"}}])
    result = run_cli(["run", "x", "--model", "openai:some-local-model", "--max-cost", "0.01", "--json", "-w", str(tmp_path)],
                     cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    assert json_events(result.stdout)[-1]["cost"] is None


def test_time_limit_stops_the_run(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN, expensive_bash("sleep 2"), expensive_bash("echo too late")])
    result = run_cli(["run", "x", "--model", "openai:demo", "--max-seconds", "1", "--json", "-w", str(tmp_path)],
                     cli_env(eval_home, server))
    assert result.returncode == 1
    finished = json_events(result.stdout)[-1]
    assert finished["status"] == "limit" and "time limit" in finished["reason"] and finished["steps"] == 1


def test_doctor_reports_every_part(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([], models=["demo"])
    healthy = run_cli(["doctor", "--model", "openai:demo"], cli_env(eval_home, server))
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    for part in ("docker engine", "sandbox image", "model", "data folder"):
        assert any(line.startswith("ok") and part in line for line in healthy.stdout.splitlines()), part
    broken = run_cli(["doctor", "--model", "openai:demo", "--base-url", "http://127.0.0.1:9/v1"], cli_env(eval_home))
    assert broken.returncode == 1
    model_line = next(line for line in broken.stdout.splitlines() if "model" in line and "FAIL" in line)
    assert "127.0.0.1:9" in model_line
    no_docker = run_cli(["doctor", "--model", "openai:demo"], cli_env(eval_home, server, DOCKER_HOST="unix:///nonexistent.sock"))
    assert no_docker.returncode == 1 and "Docker engine unreachable" in no_docker.stdout
