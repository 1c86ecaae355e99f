"""The way people get eval-agent: a plain (not editable) `pip install` of the wheel into a fresh
venv, run by an ordinary user in the docker group. Also the agent's own image, driving the host's
engine through its socket."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
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
        # exporting from a plain install: the JSON-lines formats work, parquet names its extra
        for fmt, out in (("openai", "openai.jsonl"), ("sharegpt", "sharegpt"), ("alpaca", "alpaca")):
            exported = as_user(["eval-agent", "export", "--format", fmt, "--out", str(home / out)], env, cwd=home)
            assert exported.returncode == 0, (fmt, exported.stderr)
            written = [home / out] if fmt == "openai" else sorted((home / out).glob("*.json*"))
            assert written and all(json.loads(p.read_text()) if p.suffix == ".json" else p.read_text().strip()
                                   for p in written), (fmt, written)
        parquet = as_user(["eval-agent", "export", "--format", "trl", "--out", str(home / "trl")], env, cwd=home)
        assert parquet.returncode != 0 and "pip install 'eval-agent[export]'" in parquet.stderr, parquet.stderr
        assert "Traceback" not in parquet.stderr
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_the_agent_image_drives_the_hosts_engine(tmp_path, sandbox_image):
    """eval-agent in its own image, talking to the host's engine through the socket: it works, and
    the containers it starts (the sandbox and the git box) get neither the socket, nor a host path
    but the workspace, nor a capability, nor privileges; the escape suite's rule holds there too."""
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

        workspace = tmp_path / "project"
        workspace.mkdir()
        look = ("ls -l /var/run/docker.sock /run/docker.sock 2>&1; grep CapEff /proc/self/status; "
                "awk '$5 != \"/\" {print \"mount\", $5}' /proc/self/mountinfo; echo checked > seen.txt; sleep 2")
        (workspace / "script.json").write_text(json.dumps([
            {"content": "- [ ] look around"}, {"tool": "bash", "args": {"command": look}},
            {"tool": "finish", "args": {"summary": "looked"}}]))
        seen: dict[str, dict] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=_watch_containers, args=(str(workspace), seen, stop), daemon=True)
        watcher.start()
        try:
            run = sh("docker", "run", "--rm", "-v", "/var/run/docker.sock:/var/run/docker.sock",
                     "-v", f"{workspace}:{workspace}", "-w", str(workspace), tag, "run", "look around",
                     "--model", f"scripted:{workspace}/script.json", "--json", timeout=300)
        finally:
            stop.set()
            watcher.join(10)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        output = next(e for e in json_events(run.stdout) if e["type"] == "tool_finished")["full_output"]
        assert "No such file" in output and "docker.sock" in output, output
        assert "CapEff:\t0000000000000000" in output, "the sandbox holds no capability"
        assert (workspace / "seen.txt").read_text() == "checked\n"
        assert "eval-agent step 1" in subprocess.run(["git", "-C", str(workspace), "log", "--format=%s"],
                                                     capture_output=True, text=True).stdout
        assert {info["role"] for info in seen.values()} == {"sandbox", "git"}, seen
        for name, info in seen.items():
            assert not info["privileged"] and info["cap_drop"] == ["ALL"], (name, info)
            assert "no-new-privileges" in info["security_opt"], (name, info)
            assert not info["devices"], (name, info)
            for source in info["sources"]:
                assert "docker.sock" not in source, (name, source)
                assert source == str(workspace) or source.startswith(str(workspace) + "/"), (name, source)
    finally:
        sh("docker", "rmi", "-f", tag)
        shutil.rmtree(wheels, ignore_errors=True)


def _watch_containers(workspace: str, seen: dict, stop: threading.Event) -> None:
    """Records how every eval-agent container of `workspace` is configured while it runs."""
    import docker

    client = docker.from_env()
    while not stop.is_set():
        for container in client.containers.list(filters={"label": "eval-agent=1"}, ignore_removed=True):
            if container.labels.get("eval-agent.workspace") != workspace or container.name in seen:
                continue
            host = container.attrs["HostConfig"]
            seen[container.name] = {
                "role": container.labels.get("eval-agent.role"), "privileged": host.get("Privileged"),
                "cap_drop": host.get("CapDrop"), "security_opt": host.get("SecurityOpt") or [],
                "devices": host.get("Devices") or [],
                "sources": [m.get("Source", "") for m in container.attrs.get("Mounts") or []]}
        stop.wait(0.2)
