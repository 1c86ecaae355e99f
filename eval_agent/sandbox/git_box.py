"""The git box: a container of its own in which eval-agent's git commands on the workspace run, so
that nothing the sandbox wrote into the repository (config, attributes, hooks, links) is ever
obeyed on the host.

It sees only the folders it is given (the workspace, and the repository's own folder when that
lies above the workspace), under a random root that the agent's container cannot name; it has no
network, no capability, no privilege escalation and a read-only root file system, runs as the
workspace's owner (so what git writes there is theirs, with no chown on the host), and idles
until eval-agent asks it for a command (`docker exec`, ~60 ms each). Whatever a poisoned
repository makes git run, it runs in here, where it can reach nothing the sandbox could not."""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.utils.socket import consume_socket_output, demux_adaptor, frames_iter

from ..errors import EnvironmentProblem
from ..git_runner import GIT_TIMEOUT, GitResult, git_environment
from ..repo_layout import RepoLayout
from .engine import CONTAINER_PREFIX, LABEL, docker_client

BOX_ENV = {"HOME": "/tmp/home", "LANG": "C.UTF-8", "GIT_PAGER": "cat", "PAGER": "cat", "TERM": "dumb"}


@dataclass(frozen=True)
class BoxMount:
    host: Path
    writable: bool = True


def box_mounts(layout: RepoLayout) -> list[BoxMount]:
    """What the git box needs to see: the workspace, and the repository's parts outside it (an
    enclosing repository's .git and the ignore and attribute files on the way down to the
    workspace; a worktree's shared repository), none of which the sandbox ever sees."""
    mounts = [BoxMount(layout.workspace)]
    for folder in (layout.common_dir, layout.git_dir):
        if folder is not None and not any(m.host == folder or m.host in folder.parents for m in mounts):
            mounts.append(BoxMount(folder))
    if layout.work_tree != layout.workspace:
        for folder in (f for f in layout.workspace.parents if f == layout.work_tree or layout.work_tree in f.parents):
            for name in (".gitignore", ".gitattributes"):
                if (folder / name).is_file() and not (folder / name).is_symlink():
                    mounts.append(BoxMount(folder / name, writable=False))
    return mounts


class GitBox:
    def __init__(self, image: str, mounts: list[BoxMount], user: str | None, session_id: str,
                 client: docker.DockerClient | None = None):
        self.image, self.mounts, self.user = image, mounts, user
        self.name = f"{CONTAINER_PREFIX}{session_id}-git"
        self.session_id = session_id
        self._root = f"/eval-agent-{secrets.token_hex(8)}"  # unknown to the agent's container
        self._client = client
        self._container_id: str | None = None

    def path(self, host_path: Path) -> str:
        return self._root + str(host_path)

    def start(self) -> "GitBox":
        client = self._client = self._client or docker_client()
        volumes = {str(mount.host): {"bind": self.path(mount.host), "mode": "rw" if mount.writable else "ro"}
                   for mount in self.mounts}
        try:
            container = client.containers.create(
                self.image, ["sleep", "infinity"], entrypoint=[""], name=self.name, init=True,
                user=self.user or "", environment=BOX_ENV, volumes=volumes, working_dir="/",
                network_disabled=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
                read_only=True, tmpfs={"/tmp": "rw,nosuid,nodev,size=256m"},
                pids_limit=256, mem_limit="1g", log_config={"type": "none"},
                labels={LABEL: "1", f"{LABEL}.session": self.session_id, f"{LABEL}.role": "git",
                        f"{LABEL}.workspace": str(self.mounts[0].host) if self.mounts else ""},
            )
            self._container_id = container.id
            container.start()
        except ImageNotFound:
            self.close()
            raise EnvironmentProblem(f"sandbox image {self.image} is missing: build it with "
                                     "`eval-agent sandbox build`") from None
        except BaseException as exc:  # Ctrl-C included: never leave the container behind
            self.close()
            if isinstance(exc, (APIError, DockerException)):
                raise EnvironmentProblem(f"could not start the git box for the workspace: {exc}") from None
            raise
        return self

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
            input: bytes | None = None) -> GitResult:
        if self._container_id is None:
            raise EnvironmentProblem("the git box is not running")
        api = self._client.api
        command = ["timeout", "-k", "5", str(int(GIT_TIMEOUT)), *argv]  # a filter that never returns
        try:
            exec_id = api.exec_create(self._container_id, command, stdin=input is not None, user=self.user or "",
                                      environment={**git_environment(), **(env or {})},
                                      workdir=self.path(cwd))["Id"]
            if input is None:
                out, err = api.exec_start(exec_id, demux=True)
            else:
                out, err = _exchange(api.exec_start(exec_id, socket=True), input)
            code = api.exec_inspect(exec_id).get("ExitCode")
        except (APIError, DockerException, OSError) as exc:
            raise EnvironmentProblem(f"the git box did not answer: {exc}") from None
        return GitResult(-1 if code is None else code, (out or b"").decode("utf-8", errors="surrogateescape"),
                         (err or b"").decode("utf-8", errors="replace"))

    def close(self) -> None:
        client, self._container_id = self._client, None
        if client is None:
            return
        try:
            client.api.remove_container(self.name, force=True)
        except NotFound:
            pass
        except (APIError, DockerException):
            pass  # `eval-agent sandbox prune` removes what is left


def _exchange(response, data: bytes) -> tuple[bytes | None, bytes | None]:
    """Writes `data` to an exec's stdin, closes it, and reads its stdout and stderr to the end."""
    raw = getattr(response, "_sock", response)
    raw.settimeout(GIT_TIMEOUT + 30)
    try:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        frames = (demux_adaptor(*frame) for frame in frames_iter(raw, tty=False))
        return consume_socket_output(frames, demux=True)
    finally:
        for closer in (raw, response):
            try:
                closer.close()
            except OSError:
                pass
