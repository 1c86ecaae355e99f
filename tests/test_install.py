"""The way people get eval-agent: a plain (not editable) `pip install` of the wheel into a fresh
venv, run by an ordinary user in the docker group. Also the agent's own image, driving the host's
engine through its socket."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, json_events

USER = "eval-agent-tester"
PLAN = {"content": "- [ ] write a file"}


def sh(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def ordinary_user() -> tuple[int, int]:
    """A user in the docker group, as people run eval-agent (the suite itself runs as root)."""
    assert os.getuid() == 0, "this test creates a user and needs root (CI runs as root)"
    if sh("id", USER).returncode != 0:
        created = sh("useradd", "--create-home", "--groups", "docker", USER)
        assert created.returncode == 0, created.stderr
    sh("usermod", "-aG", "docker", USER)
    return int(sh("id", "-u", USER).stdout), int(sh("id", "-g", USER).stdout)


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory, ordinary_user) -> Path:
    """A fresh venv with eval-agent installed from its wheel, readable by the ordinary user."""
    folder = Path(tempfile.mkdtemp(prefix="eval-agent-install-"))
    os.chmod(folder, 0o755)
    wheels = folder / "wheels"
    built = sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT))
    assert built.returncode == 0, built.stderr
    venv = folder / "venv"
    # the system's python: the test runner's may live under /root, which the user cannot enter
    system_python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable
    made = sh(system_python, "-m", "venv", str(venv))
    assert made.returncode == 0, f"{system_python} cannot make a venv (apt-get install python3-venv): {made.stderr}"
    wheel = next(wheels.glob("eval_agent-*.whl"))
    installed = sh(str(venv / "bin" / "pip"), "install", "-q", str(wheel))
    assert installed.returncode == 0, installed.stderr
    yield venv
    shutil.rmtree(folder, ignore_errors=True)


def as_user(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    # runuser keeps no environment of ours except what `env` passes explicitly
    assignments = [f"{key}={value}" for key, value in env.items()]
    return sh("runuser", "-u", USER, "--", "env", "-i", *assignments, *command, cwd=cwd, timeout=300)


def test_wheel_carries_templates_and_sandbox_files(installed_venv):
    site = next((installed_venv / "lib").glob("python3*/site-packages"))
    assert (site / "eval_agent" / "_prompts" / "system.j2").is_file()
    assert (site / "eval_agent" / "_sandbox_image" / "Dockerfile").is_file()
    assert not (site / "eval_agent" / "_prompts" / "__init__.py").exists()


def test_ordinary_user_builds_and_runs_from_a_plain_install(installed_venv, ordinary_user, sandbox_image, scripted_server):
    uid, gid = ordinary_user
    home = Path(tempfile.mkdtemp(prefix="eval-agent-user-"))
    os.chown(home, uid, gid)
    workspace = home / "project"
    workspace.mkdir()
    os.chown(workspace, uid, gid)
    server = scripted_server([PLAN, {"tool": "bash", "args": {"command": "id -u > who.txt; echo made"}},
                              {"tool": "finish", "args": {"summary": "wrote who.txt"}}])
    env = {"PATH": f"{installed_venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "EVAL_AGENT_HOME": str(home / "data"),
           "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-0123456789abcdefghijkl"}
    try:
        build = as_user(["eval-agent", "sandbox", "build"], env, cwd=home)
        assert build.returncode == 0, build.stderr
        assert build.stdout.startswith(sandbox_image)
        run = as_user(["eval-agent", "run", "record who I am", "--model", "openai:demo", "--json"], env, cwd=workspace)
        assert run.returncode == 0, run.stderr
        assert json_events(run.stdout)[-1]["status"] == "finished"
        written = workspace / "who.txt"
        assert written.read_text().strip() == str(uid), "the sandbox ran as the user"
        assert (written.stat().st_uid, written.stat().st_gid) == (uid, gid), "what it wrote is the user's"
        records = list((home / "data" / "trajectories").glob("*.jsonl"))
        assert records and records[0].stat().st_uid == uid
        listing = as_user(["eval-agent", "sandbox", "ls"], env, cwd=home)
        assert listing.returncode == 0, listing.stderr
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_the_agent_image_drives_the_hosts_engine(tmp_path, sandbox_image):
    wheels = ROOT / "build" / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    built = sh(sys.executable, "-m", "pip", "wheel", "-q", "-w", str(wheels), str(ROOT))
    assert built.returncode == 0, built.stderr
    tag = "eval-agent-test-agent-image"
    # offline there is no python:3.11-slim to pull; the sandbox image is Debian with python3-venv
    image = sh("docker", "build", "-q", "--build-arg", f"BASE={sandbox_image}", "-t", tag, str(ROOT), timeout=600)
    assert image.returncode == 0, image.stderr
    try:
        doctor = sh("docker", "run", "--rm", "-v", "/var/run/docker.sock:/var/run/docker.sock", tag, "doctor",
                    "--model", "scripted:/nonexistent.json", timeout=120)
        lines = doctor.stdout.splitlines()
        assert any(line.startswith("ok") and "docker engine" in line for line in lines), doctor.stdout
        assert any(line.startswith("ok") and "sandbox image" in line for line in lines), doctor.stdout
        assert any("FAIL" in line and "model" in line for line in lines), "doctor reports the missing script"
        assert doctor.returncode == 1
    finally:
        sh("docker", "rmi", "-f", tag)
        shutil.rmtree(wheels, ignore_errors=True)
