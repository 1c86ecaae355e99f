"""The Docker engine restarted in the middle of a run, for real (dockerd stopped, then started
again the way the test command starts it): the run ends with one line and exit code 3, its record
is complete and readable, and `sandbox prune` leaves none of its containers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import cli_env, eval_agent_containers, run_cli, script_file

ROOT = Path(__file__).resolve().parents[2]


def engine_up() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def restart_engine() -> None:
    """The default engine only (its pid file): a second engine (tests/engines.py) is not touched."""
    pid = int(Path("/var/run/docker.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, "dockerd did not stop"
        time.sleep(0.2)
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-docker.sh")], check=True, capture_output=True)


def test_an_engine_restart_mid_run_ends_it_cleanly(tmp_path, eval_home, sandbox_image):
    ws = tmp_path / "ws"
    ws.mkdir()
    script = script_file(tmp_path, [{"tool": "bash", "args": {"command": "echo started; sleep 120"}},
                                    {"tool": "bash", "args": {"command": "echo never"}}])
    env = cli_env(eval_home)
    process = subprocess.Popen([sys.executable, "-m", "eval_agent", "run", "wait", "--model", f"scripted:{script}",
                                "--json", "-w", str(ws)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    session = None
    try:
        for line in process.stdout:
            event = json.loads(line)
            session = session or event.get("session_id")
            if event["type"] == "tool_started":
                break
        time.sleep(1)
        restart_engine()
        out, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
        if not engine_up():
            subprocess.run(["bash", str(ROOT / "scripts" / "ensure-docker.sh")], check=False)
    assert process.returncode == 3, err
    assert "Traceback" not in err and len([line for line in err.splitlines() if line.strip()]) == 1, err
    record = [json.loads(line) for line in next((eval_home / "trajectories").glob("*.jsonl")).read_text().splitlines()]
    assert record[-1]["type"] == "run_finished" and record[-1]["status"] == "error"
    pruned = run_cli(["sandbox", "prune"], env)
    assert pruned.returncode == 0, pruned.stderr
    assert not eval_agent_containers(session), "no container of the run is left after prune"
