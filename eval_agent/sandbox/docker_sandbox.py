"""The Docker sandbox: one hardened container per session, whose main process is the persistent
shell (see docker_transport)."""

from __future__ import annotations

import os
import secrets
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from ..errors import EnvironmentProblem
from ..trajectory.redact import SECRET_NAME
from .base import DEFAULT_COMMAND_TIMEOUT, WORKSPACE, PortMapping, SandboxInfo
from .engine import CONTAINER_PREFIX, LABEL, docker_client, owner_labels, remote_engine_host
from .docker_transport import DockerExecTransport, MainShellTransport, main_shell_command, new_nonce
from .shell import PersistentShell, ShellDied
from .shell_sandbox import ShellSandbox
from .tar import tar_archive
from .forward import PortForwarder, engine_is_routable, reachable

DEFAULT_PORTS = (3000, 5000, 8000, 8001, 8002, 8080, 8888)
# Host variables that may enter the sandbox; nothing else from the host environment does.
ENV_ALLOW_LIST = ("LANG", "LC_ALL", "TZ")
BASE_ENV = {
    "HOME": "/tmp/home",
    "LANG": "C.UTF-8",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "TERM": "dumb",
    "PYTHONUNBUFFERED": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "DEBIAN_FRONTEND": "noninteractive",
}


class SandboxGone(EnvironmentProblem):
    """The sandbox container stopped under the run (killed from outside, the engine restarted):
    its state is gone, so the run cannot go on."""

    def __init__(self, name: str, exc: BaseException):
        reason = getattr(exc, "explanation", None) or str(exc).split("\n")[0]
        super().__init__(f"the sandbox container {name} stopped or the Docker engine went away ({str(reason)[:160]}): "
                         "the run cannot go on; `eval-agent sandbox prune` removes what is left")


@dataclass
class DockerSandboxConfig:
    image: str
    workspace: Path | None = None  # bind-mounted at /workspace; None: the image's own workdir
    network: str = "bridge"  # "none" cuts it
    memory: str = "4g"
    cpus: float = 2.0
    pids_limit: int = 512
    ports: tuple[int, ...] = DEFAULT_PORTS
    extra_env: dict[str, str] = field(default_factory=dict)
    user: str | None = None  # "uid:gid"; default: see sandbox_user()
    session_id: str = ""
    # True: the user's workspace sandbox, every capability dropped, HOME=/tmp/home, the user's uid.
    # False: a bench task's own disposable world, run as its image says (its USER, the HOME of
    # that user, its ENV) with Docker's default capabilities, as Terminal-Bench and Harbor tasks
    # expect; no-new-privileges, the pids and memory limits and no Docker socket all the same.
    hardened: bool = True
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT  # seconds a command gets when none is given


def sandbox_env(extra: dict[str, str] | None = None, host_env: dict[str, str] | None = None) -> dict[str, str]:
    """The container's environment: fixed defaults, allow-listed host variables, and extras the
    user asked for; never a variable whose name looks like a secret."""
    host_env = os.environ if host_env is None else host_env
    env = dict(BASE_ENV)
    env.update({name: host_env[name] for name in ENV_ALLOW_LIST if name in host_env})
    env.update(extra or {})
    return {name: value for name, value in env.items() if not SECRET_NAME.search(name)}


def task_env(image_env: list[str], extra: dict[str, str] | None = None) -> dict[str, str]:
    """A task container's environment: the image's own, plus our defaults only where the image
    sets nothing, never our HOME (the user's, from the image's passwd, is the task's), and extras."""
    ours = {name: value for name, value in sandbox_env().items() if name != "HOME"}
    given = {entry.split("=", 1)[0] for entry in image_env}
    env = {name: value for name, value in ours.items() if name not in given}
    env.update({name: value for name, value in (extra or {}).items() if not SECRET_NAME.search(name)})
    return env


def sandbox_user(workspace: Path | None) -> str | None:
    """The uid:gid to run as: the user running eval-agent, so files written in the workspace are
    theirs. For root, the workspace's owner instead (root owns it: uid 0, but with every
    capability dropped, so it can write there and nowhere that needs privileges)."""
    if os.getuid() != 0:
        return f"{os.getuid()}:{os.getgid()}"
    if workspace is None:
        return None
    stat = workspace.stat()
    return f"{stat.st_uid}:{stat.st_gid}"


_HOSTS = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
          "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")  # Docker's, for --network none


def _hosts_archive() -> bytes:
    return tar_archive([("hosts", 0o644, _HOSTS.encode())], mtime=int(time.time()))


# A shell running as root writes it itself, as the first thing it does: far cheaper than an
# archive, which the engine unpacks with a helper process of its own.
_HOSTS_BY_SHELL = f"[ -s /etc/hosts ] || printf %s {shlex.quote(_HOSTS)} > /etc/hosts\n"


# engines whose containers this process could not reach: their ports are published by the engine
_UNROUTABLE: set[str] = set()


class _NotRoutable(Exception):
    """The container's address does not answer from here (see forward.py)."""


def _engine_key() -> str:
    return os.environ.get("DOCKER_HOST", "")


def _container_address(attrs: dict) -> str | None:
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    return next((net["IPAddress"] for net in networks.values() if net.get("IPAddress")), None)


def _runs_as_root(user: str | None, image) -> bool:
    name = (user or image.attrs["Config"].get("User") or "root").split(":")[0]
    return name in ("0", "root")


class DockerSandbox(ShellSandbox):
    def __init__(self, config: DockerSandboxConfig, client: docker.DockerClient | None = None):
        self.config = config
        self._client = client
        self._container = None
        self._forwarder: PortForwarder | None = None
        session = config.session_id or secrets.token_hex(4)
        self.name = f"{CONTAINER_PREFIX}{session}"
        self._info = SandboxInfo(kind="docker", workdir=WORKSPACE, image=config.image, network=config.network,
                                 command_timeout=config.command_timeout)

    def start(self) -> None:
        client = self._client = self._client or docker_client()
        config = self.config
        has_ports = config.network != "none" and bool(config.ports)
        forward = has_ports and engine_is_routable(client.api.base_url) and _engine_key() not in _UNROUTABLE
        try:
            self._start(client, forward, has_ports and not forward)
        except _NotRoutable:  # found out once per engine; the engine publishes from then on
            _UNROUTABLE.add(_engine_key())
            self._start(client, False, True)

    def _start(self, client: docker.DockerClient, forward: bool, publish: bool) -> None:
        config = self.config
        try:
            image = client.images.get(config.image)
        except ImageNotFound:
            raise EnvironmentProblem(
                f"sandbox image {config.image} is missing: build it with `eval-agent sandbox build`"
            ) from None
        user = config.user or sandbox_user(config.workspace)
        workdir = WORKSPACE if config.workspace else (image.attrs["Config"].get("WorkingDir") or "/")
        nonce = new_nonce()
        options = dict(
            image=config.image, command=main_shell_command(nonce), stdin_open=True, name=self.name, init=True,
            entrypoint=[""],  # not the image's own (a task image may have one): it would be handed our command
            labels={LABEL: "1", f"{LABEL}.session": config.session_id or self.name, f"{LABEL}.role": "sandbox",
                    f"{LABEL}.workspace": str(config.workspace or ""), **owner_labels()},
            environment=sandbox_env(config.extra_env) if config.hardened
            else task_env(image.attrs["Config"].get("Env") or [], config.extra_env),
            working_dir=workdir, security_opt=["no-new-privileges"], pids_limit=config.pids_limit,
            mem_limit=config.memory, nano_cpus=int(config.cpus * 1e9), network_mode=config.network,
            log_config={"type": "none"},  # the shell's output is ours alone: no copy in the engine's logs
        )
        if config.hardened:
            options["cap_drop"] = ["ALL"]
        if user:
            options["user"] = user
        if config.workspace:
            options["volumes"] = {str(config.workspace.resolve()): {"bind": WORKSPACE, "mode": "rw"}}
        if publish:
            # a remote engine's: on that host's interfaces, or nobody but that host could reach them
            bind = "0.0.0.0" if remote_engine_host() else "127.0.0.1"
            options["ports"] = {f"{port}/tcp": (bind, None) for port in config.ports}
        hosts_by_shell = False
        if config.network == "none":
            # no network at all, so no network setup: inside, the same as --network none (only lo),
            # and ~90 ms less of dockerd's work per container. Docker then writes no /etc/hosts:
            # we put in the one it would have (see _HOSTS), so that localhost resolves: a root
            # shell writes it, for other users an archive does (~40 ms of the saving back).
            del options["network_mode"]
            options["network_disabled"] = True
            hosts_by_shell = _runs_as_root(user, image)
        main_shell: list[MainShellTransport] = []
        try:
            self._container = client.containers.create(**options)
            if config.network == "none" and not hosts_by_shell:
                self._container.put_archive("/etc", _hosts_archive())
            main_shell.append(MainShellTransport(client, self._container.id, user, nonce))  # before start: misses nothing
            self._container.start()
            if publish or forward:  # host ports and addresses are known once started; nothing else needs a fresh look
                self._container.reload()
            if forward:
                address = _container_address(self._container.attrs)
                if not address or not reachable(address, config.ports[0]):
                    raise _NotRoutable()
                self._forwarder = PortForwarder(address, config.ports)
        except BaseException as exc:  # Ctrl-C included: never leave the container behind
            for transport in main_shell:
                transport.close()
            self.close()
            if isinstance(exc, _NotRoutable):
                raise
            if isinstance(exc, (APIError, DockerException)):
                raise EnvironmentProblem(f"could not start the sandbox container: {exc}") from None
            raise
        self._info = SandboxInfo(
            kind="docker", workdir=workdir, image=config.image, image_id=image.id,
            container=self.name, network=config.network, user=user,
            limits={"memory": config.memory, "cpus": config.cpus, "pids": config.pids_limit},
            ports=self._port_mappings(), command_timeout=config.command_timeout,
        )

        def open_shell():  # the container's own shell first; one that replaces it, by exec
            if main_shell:
                return main_shell.pop()
            try:
                return DockerExecTransport(client, self._container.id, user, workdir)
            except (APIError, DockerException, OSError) as exc:  # the container stopped, or the engine went away
                raise SandboxGone(self.name, exc) from None  # (OSError: requests' ConnectionError, no engine)

        self._shell = PersistentShell(open_shell, workdir, setup=_HOSTS_BY_SHELL if hosts_by_shell else "")
        try:
            self._shell.start()
        except BaseException as exc:  # Ctrl-C included: never leave the container behind
            self.close()
            if isinstance(exc, (ShellDied, APIError, DockerException)):
                raise EnvironmentProblem(
                    f"the sandbox shell did not start in {config.image} (it needs bash): {exc}") from None
            raise
        if config.workspace and os.environ.get("DOCKER_HOST"):
            self._check_workspace_seen(config.workspace)

    def _check_workspace_seen(self, workspace: Path) -> None:
        """An engine elsewhere (DOCKER_HOST) mounts the folder of its own machine at that path: a
        marker written here must show in there, or the agent would work on another folder."""
        marker = workspace.resolve() / f".eval-agent-engine-check-{secrets.token_hex(4)}"
        try:
            marker.write_bytes(b"")
            seen = self.run(f"test -e {WORKSPACE}/{marker.name}", timeout=30).exit_code == 0
        finally:
            marker.unlink(missing_ok=True)
        if not seen:
            self.close()
            raise EnvironmentProblem(
                f"the Docker engine at {os.environ['DOCKER_HOST']} does not see {workspace} (it would mount an "
                "empty folder of its own machine): use a folder that machine shares at the same path, "
                "or `eval-agent bench`, which needs none")

    def _port_mappings(self) -> list[PortMapping]:
        if self._forwarder is not None:
            return list(self._forwarder.mappings)
        remote = remote_engine_host()  # its URLs name the engine's host, once per port (not per address family)
        mappings: dict[int, PortMapping] = {}
        for key, bindings in sorted((self._container.attrs["NetworkSettings"].get("Ports") or {}).items()):
            for binding in bindings or []:
                port = int(key.split("/")[0])
                mappings.setdefault(port, PortMapping(port, remote or binding["HostIp"], int(binding["HostPort"])))
        return sorted(mappings.values(), key=lambda m: m.container_port)

    def close(self) -> None:
        shell = getattr(self, "_shell", None)
        if shell is not None:
            shell.close()
        if self._forwarder is not None:
            self._forwarder.close()
            self._forwarder = None
        if self._client is not None:
            self._remove_container()
        self._container = None

    def _remove_container(self, attempts: int = 3) -> None:
        # by name: also catches a container whose start was cut short; a busy engine sometimes
        # answers a forced removal with a transient error, so it is tried again
        for attempt in range(attempts):
            try:
                self._client.api.remove_container(self.name, force=True)
                return
            except NotFound:
                return
            except (APIError, DockerException, OSError):  # OSError: the engine is not answering (requests)
                if attempt + 1 < attempts:
                    time.sleep(0.5 * (attempt + 1))

    def __enter__(self) -> "DockerSandbox":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
