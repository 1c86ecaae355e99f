"""What the Docker and local sandboxes share: commands and file access through one persistent
shell, so both behave alike and file operations run as the sandbox's user."""

from __future__ import annotations

import base64
import posixpath
import secrets

from .base import CommandResult, SandboxInfo
from .shell import PersistentShell

FILE_OP_TIMEOUT = 60.0


class ShellSandbox:
    """Base for sandboxes driven by a PersistentShell; subclasses set `_shell` and `_info`."""

    _shell: PersistentShell
    _info: SandboxInfo

    @property
    def info(self) -> SandboxInfo:
        return self._info

    @property
    def workdir(self) -> str:
        return self._info.workdir

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        return self._shell.run(command, timeout)

    def interrupt(self) -> None:
        self._shell.interrupt()

    # -- files: through the shell, as the sandbox's user -------------------------------
    def _absolute(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.workdir, path))

    def resolve_path(self, path: str) -> str:
        result = self._file_op(f"realpath -m -- {_q(self._absolute(path))}")
        return result.output.strip()

    def read_file(self, path: str) -> bytes:
        target = _q(self._absolute(path))
        result = self._file_op(
            f"if [ -d {target} ]; then echo __EA_ISDIR; "
            f"elif [ ! -e {target} ]; then echo __EA_NOENT; "
            f"elif [ ! -r {target} ]; then echo __EA_DENIED; "
            f"else base64 -w0 < {target}; fi"
        )
        text = result.output.strip()
        if text == "__EA_ISDIR":
            raise IsADirectoryError(path)
        if text == "__EA_NOENT":
            raise FileNotFoundError(path)
        if text == "__EA_DENIED" or result.exit_code != 0:
            raise PermissionError(f"{path}: {text[:200]}")
        return base64.b64decode(text)

    def write_file(self, path: str, data: bytes) -> None:
        target = self._absolute(path)
        delimiter = f"__EA_DATA_{secrets.token_hex(6)}"
        encoded = base64.encodebytes(data).decode("ascii")  # lines of 76 characters
        result = self._file_op(
            f"mkdir -p -- {_q(posixpath.dirname(target))} && base64 -d > {_q(target)} <<'{delimiter}'\n"
            f"{encoded}{delimiter}"
        )
        if result.exit_code != 0:
            raise PermissionError(f"{path}: {result.output.strip()[:300]}")

    def _file_op(self, command: str) -> CommandResult:
        result = self._shell.run(command, FILE_OP_TIMEOUT)
        if result.timed_out:
            raise TimeoutError(f"file operation timed out: {command[:80]}")
        return result


def _q(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"
