"""The local sandbox: the same persistent shell, run directly on this machine. No isolation at
all; used only when asked for explicitly (`--sandbox local`), for machines without Docker."""

from __future__ import annotations

import os
import select
import subprocess
from pathlib import Path

from .base import DEFAULT_COMMAND_TIMEOUT, SandboxInfo
from .docker_sandbox import sandbox_env
from .shell import SHELL_COMMAND, SIGNAL_COMMAND_SCRIPT, PersistentShell
from .shell_sandbox import ShellSandbox

WARNING = "the local sandbox runs the model's commands directly on this machine, with your permissions"


class LocalTransport:
    def __init__(self, workdir: str, env: dict[str, str]):
        self._process = subprocess.Popen(
            SHELL_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, cwd=workdir, env=env, start_new_session=True,
        )
        self._fd = self._process.stdout.fileno()

    def send(self, data: bytes) -> None:
        self._process.stdin.write(data)
        self._process.stdin.flush()

    def recv(self, timeout: float) -> bytes | None:
        ready, _, _ = select.select([self._fd], [], [], max(timeout, 0))
        if not ready:
            return None
        return os.read(self._fd, 65536)

    def signal_command(self, mode: str, shell_pid: int, window: int) -> None:
        subprocess.run(["sh", "-c", SIGNAL_COMMAND_SCRIPT, "sh", mode, str(shell_pid), str(window)], check=False)

    def exit_code(self) -> int | None:
        return self._process.poll()

    def close(self) -> None:
        if self._process.poll() is None:
            try:  # the shell and everything it started, background servers included
                os.killpg(self._process.pid, 9)
            except ProcessLookupError:
                pass
        self._process.wait()
        self._process.stdin.close()
        self._process.stdout.close()


class LocalSandbox(ShellSandbox):
    def __init__(self, workspace: Path, extra_env: dict[str, str] | None = None,
                 command_timeout: float = DEFAULT_COMMAND_TIMEOUT):
        self.workspace = workspace.resolve()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env.update(sandbox_env(extra_env))
        env["HOME"] = os.environ.get("HOME", "/tmp")
        self._env = env
        self._info = SandboxInfo(kind="local", workdir=str(self.workspace), network="host", user=str(os.getuid()),
                                 command_timeout=command_timeout)

    def start(self) -> None:
        workdir = str(self.workspace)
        self._shell = PersistentShell(lambda: LocalTransport(workdir, self._env), workdir)
        self._shell.start()

    def close(self) -> None:
        shell = getattr(self, "_shell", None)
        if shell is not None:
            shell.close()

    def __enter__(self) -> "LocalSandbox":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
