"""The sandbox container failing under a run, for real: its shell killed, a command over the memory
limit, a fork bomb against the pids limit (the run goes on, and says when the shell was
restarted), and the container killed from outside (the run ends with one line and exit code 3,
its record complete, no container left)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import cli_env, eval_agent_containers, json_events, run_cli, script_file

import docker


def test_a_killed_shell_an_oom_and_a_fork_bomb_do_not_end_the_run(tmp_path, eval_home, sandbox_image):
    ws = tmp_path / "ws"
    ws.mkdir()
    script = script_file(tmp_path, [
        {"tool": "bash", "args": {"command": "cd /tmp; export MARK=1; echo before; kill -9 $$"}},
        {"tool": "bash", "args": {"command": "echo after-kill; pwd; echo mark=${MARK:-gone}"}},
        {"tool": "bash", "args": {"command": "python3 -c 'x = bytearray(2 * 1024**3); print(len(x))'"}},
        {"tool": "bash", "args": {"command": "echo after-oom"}},
        {"tool": "bash", "args": {"command": "f(){ f | f & }; f; sleep 3; echo bomb-done", "timeout": 30}},
        {"tool": "bash", "args": {"command": "echo after-bomb"}},
    ])
    env = cli_env(eval_home, EVAL_AGENT_MEMORY="512m", EVAL_AGENT_PIDS_LIMIT="64")
    result = run_cli(["run", "survive", "--model", f"scripted:{script}", "--json", "-w", str(ws)], env)
    assert result.returncode == 0, result.stderr
    steps = {e["step"]: e for e in json_events(result.stdout) if e["type"] == "tool_finished"}
    assert "the shell was restarted" in steps[1]["observation"], "the model is told its shell state is gone"
    assert "after-kill" in steps[2]["observation"] and "/workspace" in steps[2]["observation"]
    assert "mark=gone" in steps[2]["observation"]
    assert steps[3]["exit_code"] == 137 and "out of memory" in steps[3]["observation"]
    assert "after-oom" in steps[4]["observation"]
    assert "after-bomb" in steps[6]["observation"] and steps[6]["exit_code"] == 0


def test_the_container_killed_from_outside_ends_the_run_with_one_line(tmp_path, eval_home, sandbox_image):
    ws = tmp_path / "ws"
    ws.mkdir()
    script = script_file(tmp_path, [{"tool": "bash", "args": {"command": "echo started; sleep 60"}},
                                    {"tool": "bash", "args": {"command": "echo never"}}])
    process = subprocess.Popen([sys.executable, "-m", "eval_agent", "run", "wait", "--model", f"scripted:{script}",
                                "--json", "-w", str(ws)], env=cli_env(eval_home), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    session = None
    for line in process.stdout:
        event = json.loads(line)
        session = session or event.get("session_id")
        if event["type"] == "tool_started":
            break
    time.sleep(1)  # the command is running
    for container in eval_agent_containers(session, role="sandbox"):
        container.kill()
    out, err = process.communicate(timeout=120)
    assert process.returncode == 3, err
    assert "Traceback" not in err and len([line for line in err.splitlines() if line.strip()]) == 1
    assert "stopped or the Docker engine went away" in err
    record = [json.loads(line) for line in next((eval_home / "trajectories").glob("*.jsonl")).read_text().splitlines()]
    assert record[-1]["type"] == "run_finished" and record[-1]["status"] == "error"
    assert not eval_agent_containers(session), "the session removed its containers"
    assert docker.from_env().containers.list(all=True, filters={"label": f"eval-agent.session={session}"}) == []
