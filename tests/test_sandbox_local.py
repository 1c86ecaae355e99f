"""The local sandbox (no isolation, explicit opt-in) behaves like the Docker one wherever the
persistent shell is concerned: the same cases from tests/sandbox_cases.py, run on this machine."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request

import pytest

from eval_agent.sandbox.local_sandbox import LocalSandbox

import sandbox_cases as cases


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("local") / "ws"


@pytest.fixture(scope="module")
def sandbox(workspace):
    workspace.mkdir()
    box = LocalSandbox(workspace)
    box.start()
    yield box
    box.close()


@pytest.fixture
def sh(sandbox):
    cases.reset(sandbox)
    return sandbox


@pytest.fixture
def fresh(tmp_path):
    box = LocalSandbox(tmp_path)
    box.start()
    yield box
    box.close()


def test_info_and_workdir(sh, workspace):
    assert sh.info.kind == "local" and sh.info.network == "host"
    assert sh.workdir == str(workspace.resolve())
    assert sh.run("pwd", timeout=10).output == f"{workspace.resolve()}\n"


def test_host_secrets_do_not_reach_the_shell(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-local")
    monkeypatch.setenv("MY_TOKEN", "canary-token-local")
    monkeypatch.setenv("FOO", "canary-foo-local")
    box = LocalSandbox(tmp_path, extra_env={"DB_PASSWORD": "canary-pw", "EA_WANTED": "yes"})
    box.start()
    try:
        env = box.run("env", timeout=10).output
    finally:
        box.close()
    for canary in ("sk-canary-local", "canary-token-local", "canary-foo-local", "canary-pw"):
        assert canary not in env
    assert "EA_WANTED=yes" in env and "PATH=" in env and f"HOME={os.environ['HOME']}" in env


def test_state_persists(sh):
    cases.case_state_persists(sh)


def test_background_server_survives_and_answers(sh):
    port = free_port()
    log = cases.case_background_job_survives(sh, port)
    assert cases.http_get(f"http://127.0.0.1:{port}/")[0] == 200
    assert sh.run("exit 5", timeout=10).shell_restarted  # the shell exited by itself: server stays
    assert cases.http_get(f"http://127.0.0.1:{port}/")[0] == 200
    assert "GET / HTTP" in sh.run(f"cat {log}", timeout=10).output
    sh.run(f"pkill -f 'http.server {port}'; rm -f {log}", timeout=10)


def test_close_stops_background_jobs(fresh):
    port = free_port()
    cases.case_background_job_survives(fresh, port)
    fresh.close()
    time.sleep(0.3)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3)


def test_files_through_the_shell(sh, workspace):
    cases.case_files(sh, workspace)


@pytest.mark.parametrize("case", cases.SHARED_SANDBOX_CASES, ids=lambda case: case.__name__[5:])
def test_shell_case(sh, case):
    case(sh)


@pytest.mark.parametrize("case", cases.FRESH_SANDBOX_CASES, ids=lambda case: case.__name__[5:])
def test_shell_case_on_a_fresh_sandbox(fresh, case):
    case(fresh)
