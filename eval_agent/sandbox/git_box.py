"""The git box: a container of its own in which eval-agent's git commands on the workspace run, so
that nothing the sandbox wrote into the repository (config, attributes, hooks, links) is ever
obeyed on the host.

It sees only the folders it is given (the workspace, and the repository's own folder when that
lies above the workspace), under a random root that the agent's container cannot name; it has no
network, no capability, no privilege escalation and a read-only root file system, runs as the
workspace's owner (so what git writes there is theirs, with no chown on the host), and idles
with a persistent shell as its main process (sandbox/shell.py), through which each command costs
one write and one read, not a `docker exec`. Whatever a poisoned repository makes git run, it runs
in here, where it can reach nothing the sandbox could not."""

from __future__ import annotations

import base64
import binascii
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from ..errors import EnvironmentProblem
from ..git_runner import GIT_TIMEOUT, GitResult, git_environment
from ..repo_layout import RepoLayout
from .docker_transport import DockerExecTransport, MainShellTransport, main_shell_command, new_nonce
from .engine import CONTAINER_PREFIX, LABEL, docker_client, owner_labels
from .shell import PersistentShell, ShellDied

OUTPUT_CAP = 512 * 1024 * 1024  # git's output comes back whole (base64), up to this

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
        self._shell: PersistentShell | None = None

    def path(self, host_path: Path) -> str:
        return self._root + str(host_path)

    def start(self) -> "GitBox":
        client = self._client = self._client or docker_client()
        volumes = {str(mount.host): {"bind": self.path(mount.host), "mode": "rw" if mount.writable else "ro"}
                   for mount in self.mounts}
        nonce, first_shell = new_nonce(), []
        try:
            container = client.containers.create(
                self.image, main_shell_command(nonce), entrypoint=[""], name=self.name, init=True, stdin_open=True,
                user=self.user or "", environment=BOX_ENV, volumes=volumes, working_dir="/",
                network_disabled=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
                read_only=True, tmpfs={"/tmp": "rw,nosuid,nodev,size=256m"},
                pids_limit=256, mem_limit="1g", log_config={"type": "none"},
                labels={LABEL: "1", f"{LABEL}.session": self.session_id, f"{LABEL}.role": "git",
                        f"{LABEL}.workspace": str(self.mounts[0].host) if self.mounts else "", **owner_labels()},
            )
            first_shell.append(MainShellTransport(client, container.id, self.user, nonce))  # before start
            container.start()

            def open_shell():  # the container's own shell first; one that replaces it, by exec
                return first_shell.pop() if first_shell else DockerExecTransport(client, container.id, self.user, "/")

            self._shell = PersistentShell(open_shell, "/")
            self._shell.start()
        except ImageNotFound:
            self.close()
            raise EnvironmentProblem(f"sandbox image {self.image} is missing: build it with "
                                     "`eval-agent sandbox build`") from None
        except BaseException as exc:  # Ctrl-C included: never leave the container behind
            for transport in first_shell:
                transport.close()
            self.close()
            if isinstance(exc, (APIError, DockerException, ShellDied)):
                raise EnvironmentProblem(f"could not start the git box for the workspace: {exc}") from None
            raise
        return self

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
            input: bytes | None = None) -> GitResult:
        if self._shell is None:
            raise EnvironmentProblem("the git box is not running")
        assignments = " ".join(shlex.quote(f"{key}={value}") for key, value in {**git_environment(), **(env or {})}.items())
        delimiter = f"__EA_IN_{secrets.token_hex(6)}"
        feed = (f"base64 -d > \"$in\" <<'{delimiter}'\n{base64.encodebytes(input).decode()}{delimiter}\n"
                if input else "")
        # stdout and stderr apart, each as one base64 line, then the exit code
        command = (f"in=$(mktemp) out=$(mktemp) err=$(mktemp)\n{feed}"
                   f"(cd {shlex.quote(self.path(cwd))} && exec env {assignments} {shlex.join(argv)}) "
                   f"< \"$in\" > \"$out\" 2> \"$err\"; code=$?\n"
                   f"base64 -w0 < \"$out\"; echo; base64 -w0 < \"$err\"; echo; echo $code; rm -f \"$in\" \"$out\" \"$err\"")
        try:
            result = self._shell.run(command, GIT_TIMEOUT, output_cap=OUTPUT_CAP)
        except (ShellDied, APIError, DockerException, OSError) as exc:
            raise EnvironmentProblem(f"the git box did not answer: {exc}") from None
        if result.timed_out:
            return GitResult(124, "", f"{argv[0]} did not finish within {GIT_TIMEOUT:.0f} s")
        try:
            out, err, code = result.output.rstrip("\n").split("\n")[-3:]
            return GitResult(int(code), base64.b64decode(out).decode("utf-8", errors="surrogateescape"),
                             base64.b64decode(err).decode("utf-8", errors="replace"))
        except (ValueError, binascii.Error):
            raise EnvironmentProblem(f"the git box answered in a way eval-agent cannot read: "
                                     f"{result.output[-200:]!r}") from None

    def close(self) -> None:
        shell, self._shell = self._shell, None
        if shell is not None:
            shell.close()
        if self._client is None:
            return
        try:
            self._client.api.remove_container(self.name, force=True)
        except NotFound:
            pass
        except (APIError, DockerException, OSError):  # OSError: the engine is not answering (requests)
            pass  # `eval-agent sandbox prune` removes what is left
