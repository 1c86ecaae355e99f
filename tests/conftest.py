"""Shared fixtures: the real sandbox image, a private EVAL_AGENT_HOME, the scripted OpenAI-compatible
server, and a way to run the real CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from openai_server import ScriptedOpenAIServer  # noqa: E402


# scripted answers for the scripted server
TODO_SCRIPT = json.loads((ROOT / "examples" / "todo_service.json").read_text())
PLAN = {"content": "- [ ] do it\n- [ ] check it"}


def bash(command: str, content: str = "") -> dict:
    return {"tool": "bash", "args": {"command": command}, "content": content}


def finish(summary: str = "done") -> dict:
    return {"tool": "finish", "args": {"summary": summary}}


@pytest.fixture(scope="session")
def sandbox_image() -> str:
    """The real sandbox image, built if needed. No Docker engine: the suite fails here, loudly."""
    from eval_agent.sandbox.image import ensure_image, image_tag

    ensure_image(log=lambda line: None)
    return image_tag()


@pytest.fixture
def eval_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "eval-home"
    monkeypatch.setenv("EVAL_AGENT_HOME", str(home))
    monkeypatch.setenv("EVAL_AGENT_CONFIG", str(tmp_path / "no-config.toml"))
    return home


@pytest.fixture
def scripted_server():
    servers: list[ScriptedOpenAIServer] = []

    def start(script, **options) -> ScriptedOpenAIServer:
        server = ScriptedOpenAIServer(script, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def cli_env(home: Path, server: ScriptedOpenAIServer | None = None, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "EVAL_AGENT_"))}
    env.update(EVAL_AGENT_HOME=str(home), EVAL_AGENT_CONFIG=str(home / "no-config.toml"), COLUMNS="100")
    if server is not None:
        env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-test-0123456789abcdefghijkl")
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "eval_agent", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def json_events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def eval_agent_containers(session_id: str | None = None, role: str | None = None) -> list:
    """eval-agent's containers; those of one session when given (other tests may run beside), of
    one role (sandbox, or git: the session's git box) when given."""
    import docker

    labels = (["eval-agent=1"] + ([f"eval-agent.session={session_id}"] if session_id else [])
              + ([f"eval-agent.role={role}"] if role else []))
    return docker.from_env().containers.list(all=True, filters={"label": labels})
