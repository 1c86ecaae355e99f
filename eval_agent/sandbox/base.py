"""The Sandbox protocol: where the agent's commands and file operations happen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

DEFAULT_COMMAND_TIMEOUT = 120.0  # seconds a command gets when no timeout is given
MIN_COMMAND_TIMEOUT = 1.0
MAX_COMMAND_TIMEOUT = 1800.0  # a build or a test suite may take long; an hour-long hang should not
WORKSPACE = "/workspace"


@dataclass
class CommandResult:
    """What one shell command did. `output` is stdout and stderr merged, as on a terminal,
    capped at a few MB (`output_truncated` says when the cap cut it)."""

    command: str
    output: str
    exit_code: int
    duration: float
    timed_out: bool = False
    interrupted: bool = False
    output_truncated: bool = False
    shell_restarted: bool = False


@dataclass
class PortMapping:
    container_port: int
    host_ip: str
    host_port: int

    @property
    def url(self) -> str:
        return f"http://{self.host_ip}:{self.host_port}"


@dataclass
class SandboxInfo:
    """What a trajectory and the prompt need to know about a sandbox."""

    kind: str  # "docker" or "local"
    workdir: str
    image: str | None = None
    image_id: str | None = None
    container: str | None = None
    network: str = "bridge"
    limits: dict = field(default_factory=dict)
    ports: list[PortMapping] = field(default_factory=list)
    user: str | None = None
    # a command run with no timeout gets this many seconds; the prompt states the same number
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT


@runtime_checkable
class Sandbox(Protocol):
    """A place to run shell commands with state that persists between them, and to read and
    write files. Paths given to the file methods are relative to `workdir` or absolute inside
    the sandbox; confinement to the workspace is the file tools' job, not the sandbox's."""

    @property
    def info(self) -> SandboxInfo: ...

    @property
    def workdir(self) -> str: ...

    def start(self) -> None: ...

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        """`timeout` None: info.command_timeout."""
        ...

    def read_file(self, path: str) -> bytes: ...

    def write_file(self, path: str, data: bytes) -> None: ...

    def resolve_path(self, path: str) -> str:
        """The real absolute path inside the sandbox, symlinks followed (like `realpath -m`)."""
        ...

    def interrupt(self) -> None:
        """Stop the command that is running now (called from another thread or a signal)."""
        ...

    def close(self) -> None: ...
