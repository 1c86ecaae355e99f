"""The one way a sandbox is built, for a session, a replay and a bench attempt alike: plain
settings in (SandboxSettings), a started sandbox out (start_sandbox)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import UsageError
from .base import DEFAULT_COMMAND_TIMEOUT, Sandbox
from .docker_sandbox import DEFAULT_PORTS, DockerSandbox, DockerSandboxConfig

if TYPE_CHECKING:
    from ..config import Settings


@dataclass(frozen=True)
class SandboxSettings:
    kind: str = "docker"  # "docker", or "local": no isolation, the workspace itself
    workspace: Path | None = None  # mounted at /workspace; None: the image's own working folder
    image: str | None = None  # None: eval-agent's own image, built when missing or out of date
    network: str = "bridge"  # "none" cuts it
    memory: str = "4g"
    cpus: float = 2.0
    pids_limit: int = 512
    ports: tuple[int, ...] = DEFAULT_PORTS  # container ports published on the host's 127.0.0.1
    env_names: tuple[str, ...] = ()  # host variables passed in, those set on the host
    user: str | None = None  # "uid:gid"; None: see docker_sandbox.sandbox_user
    session_id: str = ""  # names the container
    hardened: bool = True  # False: a bench task's own world (see DockerSandboxConfig.hardened)
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT  # seconds a command gets when none is given


def sandbox_settings(settings: Settings, **changes) -> SandboxSettings:
    """The sandbox part of the user's settings (flags, environment, config file), with `changes`."""
    found = SandboxSettings(
        kind=settings.sandbox, image=settings.image, network=settings.network, memory=settings.memory,
        cpus=settings.cpus, pids_limit=settings.pids_limit, env_names=tuple(settings.sandbox_env),
        command_timeout=settings.command_timeout,
    )
    return replace(found, **changes)


def start_sandbox(settings: SandboxSettings, log: Callable[[str], None] = lambda line: None,
                  warn: Callable[[str], None] = lambda line: None,
                  docker: Callable[[DockerSandboxConfig], DockerSandbox] = DockerSandbox) -> Sandbox:
    """A started sandbox; on failure nothing is left running. `log` gets the image build's lines,
    `warn` the local sandbox's warning; `docker` makes the Docker sandbox from its config (the
    bench's can be stopped from another thread)."""
    extra_env = {name: os.environ[name] for name in settings.env_names if name in os.environ}
    sandbox: Sandbox
    if settings.kind == "local":
        from .local_sandbox import WARNING, LocalSandbox

        if settings.workspace is None:
            raise UsageError("--sandbox local needs a workspace folder")
        warn(WARNING)
        sandbox = LocalSandbox(settings.workspace, extra_env=extra_env, command_timeout=settings.command_timeout)
    else:
        sandbox = docker(DockerSandboxConfig(
            image=settings.image or _own_image(log), workspace=settings.workspace, network=settings.network,
            memory=settings.memory, cpus=settings.cpus, pids_limit=settings.pids_limit, ports=settings.ports,
            extra_env=extra_env, user=settings.user, session_id=settings.session_id, hardened=settings.hardened,
            command_timeout=settings.command_timeout,
        ))
    try:
        sandbox.start()
    except BaseException:  # Ctrl-C included: never leave a container or a shell behind
        sandbox.close()
        raise
    return sandbox


def _own_image(log: Callable[[str], None]) -> str:
    from .image import ensure_image, image_tag

    ensure_image(log=log)
    return image_tag()
