"""The escape suite's kit (its modules import it, fixtures included): a canary on the host that
nothing in the sandbox can reach, payloads that would trip it if the host ever ran them, and real
runs with the scripted model.

A payload is a small script written into the workspace by the agent; git settings point at it by
its *host* path (a real attacker can guess a home folder; here it is known), so a host that obeyed
the repository would run it. It writes a file into the canary folder (a host folder that no
container sees) and starts `sleep MARKER` in the background. Inside a container the host path does
not exist, so there it fails harmlessly, which is exactly what is allowed."""

from __future__ import annotations

import json
import os
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from eval_agent.config import load_settings
from eval_agent.session import Session

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
    sessions: list[Session] = []

    def open_session(workspace: Path, actions: list[dict], events: list | None = None) -> Session:
        settings = load_settings({"model": f"scripted:{script_file(tmp_path, actions)}", "tool_mode": "native"})
        session = Session(settings, workspace, emit=(events.append if events is not None else None))
        sessions.append(session)
        session.__enter__()
        return session

    yield open_session
    for session in sessions:
        session.close()
