"""`eval-agent run` end to end: the real CLI process, the real openai client talking to the scripted
OpenAI-compatible server, the real sandbox container, real git."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import git
import pytest

from conftest import PLAN, TODO_SCRIPT, bash, cli_env, eval_agent_containers, finish, json_events, run_cli

REQUEST = "build a simple web todo service with GET and POST /todos"



def test_todo_service_is_built_served_and_reachable_from_the_host(tmp_path, eval_home, scripted_server, sandbox_image):
    # the item after the server starts waits, so the test can reach the service while the run goes on
    script = [dict(item) for item in TODO_SCRIPT]
    script[3]["delay"] = 4
    server = scripted_server(script)
    workspace = tmp_path / "todo"
    workspace.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "eval_agent", "run", REQUEST, "--model", "openai:demo", "--json"],
                               cwd=workspace, env=cli_env(eval_home, server), stdout=subprocess.PIPE, text=True)
    events, answers = [], []
    for line in process.stdout:
        event = json.loads(line)
        events.append(event)
        if event["type"] == "tool_finished" and event["step"] == 2:
            port = next(p for p in events[0]["sandbox"]["ports"] if p["container_port"] == 8000)
            with urllib.request.urlopen(port["url"] + "/todos", timeout=5) as response:
                answers.append(json.loads(response.read()))
    assert process.wait(timeout=60) == 0
    assert answers == [[]], "the service answered the host through its published port"
    types = [event["type"] for event in events]
    assert types[0] == "run_started" and types[-1] == "run_finished"
    finished = events[-1]
    assert finished["status"] == "finished" and finished["steps"] == 4
    assert finished["services"] and finished["services"][0].startswith("http://127.0.0.1:")
    assert (workspace / "app.py").read_text().startswith("from flask import")
    # the model was offered exactly our tools, natively
    offered = {tool["function"]["name"] for tool in server.requests[1]["tools"]}
    assert offered == {"bash", "read_file", "write_file", "edit_file", "finish"}
    # a commit per step that changed files, named after the step
    messages = [commit.message for commit in git.Repo(workspace).iter_commits()]
    assert any(message.startswith("eval-agent step 1: bash: cat > app.py") for message in messages)
    # the record: versioned, complete, with the commits
    record = Path(finished["record"])
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert lines[0]["format"] == "eval-agent.trajectory/1"
    assert [line["type"] for line in lines[1:]] == types
    commits = [line["commit"] for line in lines if line["type"] == "tool_finished" and line["tool"] != "finish"]
    assert commits[0] and len(commits[0]) == 40
    assert not eval_agent_containers(events[0]["session_id"]), "the container is removed when the run ends"


def test_console_output_shows_plan_steps_summary_and_record(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([{"content": "- [ ] greet\n- [ ] finish"}, bash("echo hello-from-sandbox"),
                              finish("Said hello.")])
    result = run_cli(["run", "say hello", "--model", "openai:demo", "-w", str(tmp_path)], cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[ ] greet" in out and "echo hello-from-sandbox" in out and "Said hello." in out
    assert out.count("hello-from-sandbox") >= 2, "the command and its output are both shown"
    assert "recorded: " + str(eval_home) in out.replace("\n", "")


def test_text_protocol_with_a_format_error_fed_back(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([
        PLAN,
        {"content": "I will just do it."},  # no action: a format error
        {"content": "Now properly.\n\nACTION: write_file notes/a.txt\n```\nline one\nline two\n```"},
        {"content": "ACTION: bash\n```\ncat notes/a.txt | wc -l\n```"},
        {"content": "ACTION: finish\nWrote notes/a.txt."},
    ])
    result = run_cli(["run", "write a note", "--model", "openai:demo", "--tool-mode", "text", "--json",
                      "-w", str(tmp_path)], cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    events = json_events(result.stdout)
    assert [e["type"] for e in events].count("format_error") == 1
    assert (tmp_path / "notes" / "a.txt").read_text() == "line one\nline two\n"
    assert "tools" not in server.requests[2], "text mode sends no tool schemas"
    system = server.requests[0]["messages"][0]["content"]
    assert "ACTION: bash" in system, "the text protocol is taught in the system prompt"
    fed_back = server.requests[2]["messages"][-1]["content"]
    assert "could not be used" in fed_back and "ACTION:" in fed_back
    observation = server.requests[4]["messages"][-1]["content"]
    assert observation.startswith("Result of bash:") and "2" in observation


def test_three_format_errors_in_a_row_stop_the_run(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN] + [{"content": "no action here"}] * 3)
    result = run_cli(["run", "x", "--model", "openai:demo", "--tool-mode", "text", "--json", "-w", str(tmp_path)],
                     cli_env(eval_home, server))
    assert result.returncode == 1
    finished = json_events(result.stdout)[-1]
    assert finished["status"] == "limit" and "no usable action" in finished["reason"]


def test_auto_mode_falls_back_to_text_when_the_server_rejects_tools(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN, {"content": "ACTION: bash\n```\necho fallback-ok\n```"},
                              {"content": "ACTION: finish\nok"}], reject_tools=True)
    result = run_cli(["run", "x", "--model", "openai:demo", "--json", "-w", str(tmp_path)], cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    events = json_events(result.stdout)
    assert any(e["type"] == "notice" and "text protocol" in e["message"] for e in events)
    step = next(e for e in events if e["type"] == "tool_finished")
    assert "fallback-ok" in step["observation"]
    assert "ACTION: bash" in server.requests[-1]["messages"][0]["content"]


def test_step_limit_stops_with_exit_code_1(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN] + [bash(f"echo {i}") for i in range(10)])
    result = run_cli(["run", "x", "--model", "openai:demo", "--max-steps", "3", "--json", "-w", str(tmp_path)],
                     cli_env(eval_home, server))
    assert result.returncode == 1
    finished = json_events(result.stdout)[-1]
    assert finished["status"] == "limit" and finished["steps"] == 3 and "step limit" in finished["reason"]


def test_stuck_detection_warns_then_ends_the_run(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN] + [bash("cat missing.txt")] * 6)
    result = run_cli(["run", "x", "--model", "openai:demo", "--json", "-w", str(tmp_path)], cli_env(eval_home, server))
    assert result.returncode == 1
    finished = json_events(result.stdout)[-1]
    assert finished["status"] == "limit" and "stuck" in finished["reason"] and finished["steps"] == 4
    warned = [m["content"] for m in server.requests[4]["messages"] if m["role"] == "user"]
    assert "same action three times" in warned[-1]


def test_a_failed_edit_repeated_between_reads_is_stuck_too(tmp_path, eval_home, scripted_server, sandbox_image):
    # a small model's loop, seen in the gym: a wrong edit, a read, the same wrong edit again
    wrong = {"tool": "edit_file", "args": {"path": "app.conf", "old": "port = 1\nbackend = x\n", "new": "port = 2\n"}}
    look = {"tool": "read_file", "args": {"path": "app.conf"}}
    server = scripted_server([PLAN, {"tool": "write_file", "args": {"path": "app.conf", "content": "port = 1\n"}}]
                             + [wrong, look] * 5)
    result = run_cli(["run", "x", "--model", "openai:demo", "--json", "-w", str(tmp_path)], cli_env(eval_home, server))
    assert result.returncode == 1, result.stderr
    events = json_events(result.stdout)
    finished = events[-1]
    assert finished["status"] == "limit" and "stuck" in finished["reason"]
    assert finished["steps"] == 8, "the fourth identical failure ends it: steps 2, 4, 6 and 8"
    warned = [m["content"] for m in server.requests[7]["messages"] if m["role"] == "user"]
    assert "same action three times" in warned[-1], "the third one warns, before the model's next answer"
    assert [e["level"] for e in events if e["type"] == "notice" and "same result" in e["message"]] == ["warning"]


def test_retries_after_500_and_429_then_finishes(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN, {"status": 500}, {"status": 429, "headers": {"Retry-After": "0"}},
                              bash("echo ok"), finish()])
    result = run_cli(["run", "x", "--model", "openai:demo", "--json", "-w", str(tmp_path)], cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    calls = [e for e in json_events(result.stdout) if e["type"] == "model_called"]
    assert calls[1]["retries"] == 2


def test_bad_key_is_one_line_and_exit_code_3(tmp_path, eval_home, scripted_server, sandbox_image):
    server = scripted_server([PLAN], require_key="sk-the-right-key-000000000000")
    result = run_cli(["run", "x", "--model", "openai:demo", "-w", str(tmp_path)], cli_env(eval_home, server))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "OPENAI_API_KEY" in lines[0]
    assert not [c for c in eval_agent_containers() if str(tmp_path) in c.labels.get("eval-agent.workspace", "")]


@pytest.mark.parametrize("args, expected", [
    (["run", "   "], "request is empty"),
    (["run", "x", "--model", "nocolon"], "PROVIDER:NAME"),
    (["run", "x", "--network", "moon"], "network"),
    (["run", "x", "--workspace", "/no/such/folder"], "not a folder"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path, eval_home, args, expected):
    result = run_cli(args + (["--model", "openai:x"] if "--model" not in args else []), cli_env(eval_home),
                     cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and expected in result.stderr


def test_docker_unreachable_exits_3_with_the_fix(tmp_path, eval_home, scripted_server):
    server = scripted_server([PLAN])
    env = cli_env(eval_home, server, DOCKER_HOST="unix:///nonexistent/docker.sock")
    result = run_cli(["run", "x", "--model", "openai:demo", "-w", str(tmp_path)], env)
    assert result.returncode == 3
    assert "Docker engine unreachable" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("signal_number, exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_a_command_removes_the_container_and_keeps_the_record(
        tmp_path, eval_home, scripted_server, sandbox_image, signal_number, exit_code):
    server = scripted_server([PLAN, bash("echo started; sleep 60"), finish()])
    process = subprocess.Popen([sys.executable, "-m", "eval_agent", "run", "x", "--model", "openai:demo", "--json",
                                "-w", str(tmp_path)], env=cli_env(eval_home, server), stdout=subprocess.PIPE, text=True)
    events = []
    for line in process.stdout:
        events.append(json.loads(line))
        if events[-1]["type"] == "tool_started":
            break
    time.sleep(1)
    process.send_signal(signal_number)
    rest = process.stdout.read()
    assert process.wait(timeout=30) == exit_code
    events += json_events(rest)
    if signal_number == signal.SIGINT:
        assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "interrupted"
        step = next(e for e in events if e["type"] == "tool_finished")
        assert "started" in step["observation"] and "interrupted" in step["observation"]
    record = next((eval_home / "trajectories").glob("*.jsonl"))
    assert '"tool_started"' in record.read_text()
    assert not eval_agent_containers(events[0]["session_id"])


def test_python_api_returns_outcome_and_run_id(tmp_path, eval_home, scripted_server, sandbox_image, monkeypatch):
    import eval_agent

    server = scripted_server([PLAN, bash("echo api > api.txt"), finish("wrote api.txt")])
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdefghijkl")
    seen = []
    result = eval_agent.run("write api.txt", workspace=tmp_path, model="openai:demo", on_event=seen.append)
    assert result.outcome.status == "finished" and result.outcome.summary == "wrote api.txt"
    assert result.exit_code == 0 and result.record.exists() and result.run_id in result.record.name
    assert (tmp_path / "api.txt").read_text() == "api\n"
    assert seen[0].type == "run_started" and seen[-1].type == "run_finished"


def test_secrets_stay_out_of_the_sandbox_and_the_record(tmp_path, eval_home, scripted_server, sandbox_image):
    canary = "sk-canary-ABCDEFGHIJKLMNOPQRSTUVWX"
    server = scripted_server([PLAN, bash("env; echo token ghp_abcdefghijklmnopqrstuvwxyz0123456789"), finish()])
    env = cli_env(eval_home, server, OPENAI_API_KEY=canary, MY_SERVICE_TOKEN="tok-secret-value-123")
    result = run_cli(["run", "x", "--model", "openai:demo", "--json", "-w", str(tmp_path)], env)
    assert result.returncode == 0, result.stderr
    step = next(e for e in json_events(result.stdout) if e["type"] == "tool_finished")
    assert "OPENAI_API_KEY" not in step["observation"] and "MY_SERVICE_TOKEN" not in step["observation"]
    record = next((eval_home / "trajectories").glob("*.jsonl")).read_text()
    for secret in (canary, "tok-secret-value-123", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"):
        assert secret not in record and secret not in result.stdout
    assert "[REDACTED]" in record


def test_user_changes_are_committed_apart_before_the_agent_works(tmp_path, eval_home, scripted_server, sandbox_image):
    workspace = tmp_path / "project"
    repo = git.Repo.init(workspace)
    (workspace / "mine.txt").write_text("my work\n")
    server = scripted_server([PLAN, bash("echo agent > agent.txt"), finish()])
    result = run_cli(["run", "x", "--model", "openai:demo", "-w", str(workspace)], cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    commits = list(repo.iter_commits())
    agent_commit, user_commit = commits[0], commits[1]
    assert set(agent_commit.stats.files) == {"agent.txt"}
    assert "mine.txt" in user_commit.stats.files and "uncommitted" in user_commit.message


def test_a_follow_up_run_in_a_session_continues_the_conversation(tmp_path, eval_home, scripted_server, sandbox_image, monkeypatch):
    from eval_agent import Session, load_settings

    server = scripted_server([PLAN, bash("echo one > one.txt"), finish("first"),
                              {"content": "- [ ] second"}, bash("cat one.txt"), finish("second")])
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdefghijkl")
    with Session(load_settings({"model": "openai:demo"}), tmp_path) as session:
        first = session.run("write one.txt")
        second = session.run("now read it back")
    assert (first.outcome.summary, second.outcome.summary) == ("first", "second")
    sent = server.requests[4]["messages"]
    assert any(m["role"] == "user" and "write one.txt" in m["content"] for m in sent), "the earlier request is kept"
    assert any(m["role"] == "tool" and "one" in m["content"] for m in server.requests[5]["messages"])
    assert first.record != second.record


def test_the_record_names_and_hashes_the_prompt_templates(tmp_path, eval_home, scripted_server, sandbox_image):
    prompts = tmp_path / "my-prompts"
    prompts.mkdir()
    (prompts / "start.j2").write_text("Go ahead, one tool call at a time. (my start)\n")
    workspace = tmp_path / "w"
    workspace.mkdir()
    server = scripted_server([PLAN, finish("ok")])
    result = run_cli(["run", "x", "--model", "openai:demo", "--json", "--prompts", str(prompts), "-w", str(workspace)],
                     cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    started = json_events(result.stdout)[0]
    templates = started["prompts"]["templates"]
    assert {"system.j2", "plan.j2", "observation.j2", "text_protocol.j2"} <= set(templates)
    assert templates["start.j2"] == hashlib.sha256((prompts / "start.j2").read_bytes()).hexdigest()[:16]
    assert "(my start)" in server.requests[1]["messages"][-1]["content"], "the user's copy was used"


@pytest.mark.parametrize("variant, stated", [("full", "A command has 2 s by default"), ("compact", "stop after 2 s")])
def test_command_timeout_cuts_a_command_and_is_the_number_the_prompt_states(tmp_path, eval_home, sandbox_image,
                                                                            variant, stated):
    actions = [{"content": "- [ ] wait"}, bash("echo waiting; sleep 30; echo never"), finish("waited")]
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"actions": actions, "prompt_variant": variant} if variant == "compact" else actions))
    workspace = tmp_path / "w"
    workspace.mkdir()
    env = cli_env(eval_home, EVAL_AGENT_COMMAND_TIMEOUT="2")
    result = run_cli(["run", "x", "--model", f"scripted:{script}", "--tool-mode", "native", "--json",
                      "-w", str(workspace)], env)
    assert result.returncode == 0, result.stderr
    step = next(e for e in json_events(result.stdout) if e["type"] == "tool_finished")
    assert step["timed_out"] and step["duration"] < 10, "the model gave no timeout: command_timeout stopped it"
    assert step["observation"].startswith("waiting\n") and "never" not in step["observation"]
    assert "[timed out after 2 s;" in step["observation"]
    record = [json.loads(line) for line in next((eval_home / "trajectories").glob("*.jsonl")).read_text().splitlines()]
    system = next(e for e in record if e.get("type") == "model_called")["new_messages"][0]
    assert system["role"] == "system" and stated in system["content"]
    assert "120 s" not in system["content"], "no other timeout is stated"
    assert record[1]["sandbox"]["command_timeout"] == 2
    assert "default 120" not in json.dumps(record[1]["tools"]), "nor does the bash tool state one"
    if variant == "full":  # a replay (its own settings: the default) stops the command when the run did
        replayed = run_cli(["traj", "replay", record[1]["run_id"]], cli_env(eval_home), timeout=240)
        assert replayed.returncode == 0 and "step 1 bash same" in replayed.stdout, replayed.stdout + replayed.stderr


def test_a_command_timeout_out_of_range_is_one_line_and_exit_code_2(tmp_path, eval_home):
    result = run_cli(["run", "x", "--model", "openai:x"], cli_env(eval_home, EVAL_AGENT_COMMAND_TIMEOUT="0"),
                     cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "command_timeout" in result.stderr and len(result.stderr.strip().splitlines()) == 1
