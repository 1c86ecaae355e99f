"""What the Docker and local sandboxes share: commands and file access through one persistent
shell, so both behave alike and file operations run as the sandbox's user."""

from __future__ import annotations

import base64
import posixpath
import secrets
import shlex

from .base import CommandResult, SandboxInfo
from .shell import PersistentShell

FILE_OP_TIMEOUT = 60.0
FILE_OP_OUTPUT_CAP = 256 * 1024 * 1024  # file contents pass through uncut (base64), up to this


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
        return self._shell.run(command, self._info.command_timeout if timeout is None else timeout)

    def interrupt(self) -> None:
        self._shell.interrupt()

    # -- files: through the shell, as the sandbox's user -------------------------------
    def _absolute(self, path: str) -> str:
        # no normpath here: `dir/../x` must mean what it means to bash when `dir` is a symlink
        return posixpath.join(self.workdir, path)

    def resolve_path(self, path: str) -> str:
        result = self._file_op(f"realpath -m -- {shlex.quote(self._absolute(path))}")
        return result.output[:-1] if result.output.endswith("\n") else result.output

    def read_file(self, path: str) -> bytes:
        target = shlex.quote(self._absolute(path))
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
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise OSError(f"{path}: could not read the file through the sandbox shell") from None

    def write_file(self, path: str, data: bytes) -> None:
        target = self._absolute(path)
        delimiter = f"__EA_DATA_{secrets.token_hex(6)}"
        encoded = base64.encodebytes(data).decode("ascii")  # lines of 76 characters
        result = self._file_op(
            f"mkdir -p -- {shlex.quote(posixpath.dirname(target))} && base64 -d > {shlex.quote(target)} <<'{delimiter}'\n"
            f"{encoded}{delimiter}"
        )
        if result.exit_code != 0:
            raise PermissionError(f"{path}: {result.output.strip()[:300]}")

    def _file_op(self, command: str) -> CommandResult:
        result = self._shell.run(command, FILE_OP_TIMEOUT, output_cap=FILE_OP_OUTPUT_CAP)
        if result.timed_out:
            raise TimeoutError(f"file operation timed out: {command[:80]}")
        if result.output_truncated:
            raise OSError(f"file too large for the sandbox shell (over {FILE_OP_OUTPUT_CAP // 2**20} MB)")
        return result
