"""Shared fixtures: the real sandbox image, a private EVAL_AGENT_HOME, the scripted OpenAI-compatible
server, a way to run the real CLI as a subprocess, REPLs under a pseudo-terminal, and the escape
suite's canary (tests/security)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from openai_server import ScriptedOpenAIServer  # noqa: E402

# Started as a background job of a script (`make test &`, `nohup ... &`), pytest inherits SIGINT
# ignored, and so would every process the tests start: Ctrl-C tests would see nothing. Catch it
# again here, as eval-agent's own main() does; exec then gives children the default.
signal.signal(signal.SIGINT, signal.default_int_handler)


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


@pytest.fixture(scope="session")
def second_docker(sandbox_image):
    """A second, real Docker engine on its own socket and data root (tests/engines.py)."""
    from engines import second_engine

    with second_engine(sandbox_image) as engine:
        yield engine


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


@pytest.fixture
def repls():
    """REPLs (repl_pty.ReplUnderPty) a failed test leaves running get SIGTERM, so their containers
    are removed too."""
    import pexpect

    started: list = []
    yield started
    for repl in started:
        if repl.child.isalive():
            repl.child.kill(signal.SIGTERM)
            repl.child.expect(pexpect.EOF, timeout=30)
        repl.child.close(force=True)


# -- the escape suite's canary ------------------------------------------------------------------
# A payload is a small script written into the workspace by the agent; git settings point at it by
# its *host* path (a real attacker can guess a home folder; here it is known), so a host that obeyed
# the repository would run it. It writes a file into the canary folder (a host folder no container
# sees) and starts `sleep MARKER` in the background. Inside a container the host path does not
# exist, so there it fails harmlessly, which is exactly what is allowed.

HOST_MNT_NS = os.readlink("/proc/self/ns/mnt")


@dataclass
class Canary:
    folder: Path  # on the host only
    workspace: Path
    marker: str  # the argument of the payload's background `sleep`: a host process to look for

    def script(self, name: str) -> str:
        """The payload script's text (the agent writes it to .pwn/NAME.sh in the workspace)."""
        return (f"#!/bin/sh\nid > {self.folder}/{name} 2>/dev/null\n"
                f"nohup sleep {self.marker} >/dev/null 2>&1 &\ncat\n")

    def command(self, name: str) -> str:
        """What a git setting runs: the payload by its host path."""
        return f"sh {self.workspace}/.pwn/{name}.sh"

    def write_payload(self, name: str) -> dict:
        return {"tool": "write_file", "args": {"path": f".pwn/{name}.sh", "content": self.script(name)}}

    def tripped(self) -> list[str]:
        """What ran on the host: canary files, and payload processes in the host's own mount
        namespace (a container's processes are host processes too, but in their own)."""
        found = sorted(path.name for path in self.folder.iterdir())
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if self.marker in cmdline and os.readlink(f"/proc/{pid}/ns/mnt") == HOST_MNT_NS:
                    found.append(f"host process {pid}: {cmdline.strip()}")
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                continue
        return found


@pytest.fixture
def canary(tmp_path) -> Canary:
    folder = tmp_path / "host-only"
    folder.mkdir()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    found = Canary(folder, workspace, str(31_000_000 + secrets.randbelow(999_999)))
    yield found
    found.tripped()  # kills any payload process left, whatever the test found


def script_file(folder: Path, actions: list[dict]) -> Path:
    path = folder / f"script-{secrets.token_hex(3)}.json"
    path.write_text(json.dumps([{"content": "- [ ] do it"}, *actions, {"tool": "finish", "args": {"summary": "done"}}]))
    return path


@pytest.fixture
def scripted_session(tmp_path, eval_home, sandbox_image):
    """Session(actions) -> an open Session on the canary's workspace whose model replays `actions`;
    every session is closed at the end (its sandbox and git box removed)."""
    sessions: list = []

    from eval_agent.config import load_settings
    from eval_agent.session import Session

    def open_session(workspace: Path, actions: list[dict], events: list | None = None):
        settings = load_settings({"model": f"scripted:{script_file(tmp_path, actions)}", "tool_mode": "native"})
        session = Session(settings, workspace, emit=(events.append if events is not None else None))
        sessions.append(session)
        session.__enter__()
        return session

    yield open_session
    for session in sessions:
        session.close()
