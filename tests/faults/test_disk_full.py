"""A full disk under EVAL_AGENT_HOME, for real: a small tmpfs mounted there (root only: mounting
needs it; CI runs as root). The run ends with one clear line and exit code 3, the record written
so far reads as an incomplete run, and the index is not corrupt."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest

from conftest import PLAN, bash, cli_env, finish, run_cli


@pytest.fixture
def small_home(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a tmpfs and needs root (CI runs as root)")
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", str(home)], check=True)
    yield home
    subprocess.run(["umount", "-l", str(home)], check=False)


def test_a_full_disk_ends_the_run_with_one_line_and_a_readable_record(tmp_path, small_home, scripted_server, sandbox_image):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    # the second command's output (about 1 MB, kept whole in the record) does not fit in 192 KB
    server = scripted_server([PLAN, bash("echo first-step-ok"), bash("head -c 800000 /dev/zero | base64 -w 100"),
                              finish("done")])
    env = cli_env(small_home, server)
    result = run_cli(["run", "make a lot of output", "--model", "openai:demo", "-w", str(workspace)], env)
    assert result.returncode == 3, (result.stdout[-800:], result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    said = [line for line in lines if "No space left on device" in line]
    assert len(said) == 1 and "EVAL_AGENT_HOME" in said[0], result.stderr
    assert len(lines) == 1, result.stderr

    # the record so far: readable, incomplete, with the first step in it
    from eval_agent.trajectory.reader import read_trajectory

    records = list((small_home / "trajectories").glob("*.jsonl"))
    assert len(records) == 1
    trajectory = read_trajectory(records[0])
    assert not trajectory.complete
    steps = trajectory.steps()
    assert steps and "first-step-ok" in steps[0].observation
    # the index is intact (a transaction that could not be written is rolled back)
    with sqlite3.connect(small_home / "index.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # once there is room again, the tools read it as an incomplete run
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_home)], check=True)
    listed = run_cli(["traj", "ls"], env)
    assert listed.returncode == 0 and "incomplete" in listed.stdout, listed.stdout
