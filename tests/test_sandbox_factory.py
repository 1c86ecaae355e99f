"""sandbox/factory.py, the one way a session, a replay and a bench attempt get their sandbox: the
user's settings in, a started sandbox out that has what they say. Real Docker, the real local
shell; the bash tool's default timeout is the settings' command_timeout."""

from __future__ import annotations

import secrets

import pytest

from eval_agent.config import load_settings
from eval_agent.errors import EnvironmentProblem, UsageError
from eval_agent.models.base import ToolCall
from eval_agent.sandbox.engine import LABEL, docker_client
from eval_agent.sandbox.factory import SandboxSettings, sandbox_settings, start_sandbox
from eval_agent.sandbox.local_sandbox import WARNING
from eval_agent.tools.registry import default_tools, run_tool


def bash(sandbox, command: str):
    return run_tool(default_tools(), ToolCall("bash", {"command": command}), sandbox)


def session_containers(session: str) -> list:
    return docker_client().containers.list(all=True, filters={"label": [f"{LABEL}=1", f"{LABEL}.session={session}"]})


def test_the_docker_sandbox_has_the_limits_network_env_and_timeout_the_settings_give(
        tmp_path, eval_home, sandbox_image, monkeypatch):
    monkeypatch.setenv("EA_FACTORY_WANTED", "yes")
    monkeypatch.setenv("EA_FACTORY_TOKEN", "tok-canary-123")  # asked for, but named like a secret
    monkeypatch.setenv("EVAL_AGENT_COMMAND_TIMEOUT", "1.5")
    settings = load_settings({"network": "none", "memory": "300m", "cpus": 1.0, "pids_limit": 99,
                              "sandbox_env": ["EA_FACTORY_WANTED", "EA_FACTORY_TOKEN", "EA_FACTORY_UNSET"]})
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "mine.txt").write_text("from the host\n")
    session = f"test-factory-{secrets.token_hex(4)}"
    sandbox = start_sandbox(sandbox_settings(settings, workspace=workspace, image=sandbox_image, session_id=session))
    try:
        [container] = session_containers(session)  # started: no start() left to call
        host = container.attrs["HostConfig"]
        assert (host["Memory"], host["NanoCpus"], host["PidsLimit"]) == (300 * 2**20, 10**9, 99)
        assert host["CapDrop"] == ["ALL"] and container.attrs["Config"]["NetworkDisabled"]
        seen = bash(sandbox, 'echo "$EA_FACTORY_WANTED ${EA_FACTORY_TOKEN:-no-token}"; cat mine.txt')
        assert seen.output == "yes no-token\nfrom the host"
        cut = bash(sandbox, "sleep 20")
        assert cut.timed_out and cut.duration < 10 and "[timed out after 1.5 s;" in cut.output
        assert sandbox.info.command_timeout == 1.5 and sandbox.info.network == "none"
    finally:
        sandbox.close()
    assert session_containers(session) == []


def test_the_local_sandbox_warns_and_runs_in_the_workspace(tmp_path):
    warned: list[str] = []
    sandbox = start_sandbox(SandboxSettings(kind="local", workspace=tmp_path, command_timeout=1), warn=warned.append)
    try:
        assert warned == [WARNING]
        assert bash(sandbox, "pwd").output == str(tmp_path.resolve())
        cut = bash(sandbox, "sleep 20")
        assert cut.timed_out and cut.duration < 10 and "[timed out after 1 s;" in cut.output
    finally:
        sandbox.close()


def test_settings_that_cannot_give_a_sandbox_are_one_clear_error(sandbox_image):
    with pytest.raises(UsageError, match="^--sandbox local needs a workspace folder$"):
        start_sandbox(SandboxSettings(kind="local"))
    session = f"test-factory-{secrets.token_hex(4)}"
    with pytest.raises(EnvironmentProblem, match="sandbox image eval-agent-no-such-image:0 is missing"):
        start_sandbox(SandboxSettings(image="eval-agent-no-such-image:0", session_id=session))
    assert session_containers(session) == []
