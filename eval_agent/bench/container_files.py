"""Root commands in a task's container, and files copied into it, in as few calls to the engine
as possible: a parallel bench waits on each call, and each exec or archive costs the engine a
process of its own.

Files travel as base64 in the exec's own arguments, written by a bash function `install`, so
that emptying a folder, filling it and (for the verifier) running the tests is one exec. Files
too large for arguments (the kernel caps one at 128 KiB) go by archive instead."""

from __future__ import annotations

import base64
import posixpath
import shlex
import time
from pathlib import Path

from docker.errors import APIError, DockerException

from ..errors import EnvironmentProblem
from ..sandbox.engine import docker_client
from ..sandbox.tar import tar_archive

ROOT = "0:0"  # the verifier runs as root, as in Harbor and Terminal-Bench
ARG_LIMIT = 96 * 1024  # base64 characters in one argument: under the kernel's 128 KiB per argument
ARGS_LIMIT = 1024 * 1024  # all of them: well under the usual 2 MiB for arguments and environment
COPY_ERROR = "copy-error"  # the line `install` failures are reported on (base64), see INSTALL_OR_REPORT
INSTALL_OR_REPORT = (
    'problem=$(install "$@" 2>&1) || '
    f'{{ echo "{COPY_ERROR}=$(printf %s "$problem" | base64 -w0)"; exit 3; }}\n'
)


def exec_root(container: str, command: str, workdir: str = "/", environment: dict[str, str] | None = None,
              args: list[str] | None = None, done: str = "") -> str:
    """Runs `bash -c command` (with `args` as $1...) as root in the container (a name or an id);
    returns stdout and stderr together. Two calls to the engine: a command that needs its exit
    code prints it. `done`: what the command prints last when it succeeds (it exits non-zero
    otherwise); the engine now and then loses a short exec's output (seen with Docker 20.10 under
    load), and then the exit code tells: 0 returns `done`."""
    api = docker_client().api
    exec_id = api.exec_create(container, ["bash", "-c", command, "bash", *(args or [])], user=ROOT,
                              workdir=workdir, environment=environment or {})["Id"]
    output = (api.exec_start(exec_id) or b"").decode("utf-8", errors="replace")
    if done and not output.strip() and api.exec_inspect(exec_id).get("ExitCode") == 0:
        return done
    return output


def install_script(folder: str, files: dict[str, Path], also_empty: str | None = None,
                   empty: bool = True) -> tuple[str, list[str]] | None:
    """(script, args): bash that empties `folder` (unless `empty` is False; and `also_empty`, left
    writable by all), writes `files` ({relative path: host file}) there owned by root with the
    executable bit kept, and on failure prints `copy-error=BASE64` and exits; None when the files
    are too large for arguments."""
    steps, args = [_prepare(folder, also_empty, empty)], []
    for index, (name, path) in enumerate(sorted(files.items()), start=1):
        args.append(base64.b64encode(path.read_bytes()).decode("ascii"))
        if len(args[-1]) > ARG_LIMIT:
            return None
        target = posixpath.join(folder, name)
        steps.append(f"mkdir -p {shlex.quote(posixpath.dirname(target))} && "
                     f'printf %s "${{{index}}}" | base64 -d > {shlex.quote(target)} && chmod {_mode(path):o} {shlex.quote(target)}')
    if sum(map(len, args)) > ARGS_LIMIT:
        return None
    return "install() {\n  " + " &&\n  ".join(steps) + "\n}\n" + INSTALL_OR_REPORT, args


def copy_into(container: str, folder: str, files: dict[str, Path], also_empty: str | None = None) -> None:
    """Puts `files` under `folder` in the container as install_script says: one exec, or for
    large files an exec and an archive."""
    script = install_script(folder, files, also_empty)
    if script is None:
        copy_by_archive(container, folder, files, also_empty)
        return
    try:
        output = exec_root(container, script[0] + "echo copied\n", args=script[1], done="copied")
    except (APIError, DockerException) as exc:
        raise EnvironmentProblem(f"could not copy files into {folder}: {exc}") from None
    if output.strip() != "copied":
        raise EnvironmentProblem(f"could not copy files into {folder}: {copy_error(output) or output.strip()[:300]}")


def apply_thin(container: str, thin, workdir: str) -> None:
    """What the rest of a thin environment's Dockerfile would have built (bench/tasks.py:
    ThinEnvironment): its folder's files added to the target folder, then its RUN lines, as root,
    in the image's working directory. One exec, unless the files are too large for arguments."""
    files = {str(path.relative_to(thin.folder)): path for path in sorted(thin.folder.rglob("*")) if path.is_file()}
    script = install_script(thin.target, files, empty=False)
    if script is None:
        copy_by_archive(container, thin.target, files, empty=False)
        script = ("", [])
    runs = "".join(
        f"out=$(sh -c {shlex.quote(command)} 2>&1) || {{ echo \"{COPY_ERROR}=$(printf 'RUN %s failed: %s' "
        f"{shlex.quote(command[:80])} \"$(printf %s \"$out\" | tail -c 300)\" | base64 -w0)\"; exit 3; }}\n"
        for command in thin.commands)
    try:
        output = exec_root(container, script[0] + runs + "echo ready\n", workdir=workdir, args=script[1], done="ready")
    except (APIError, DockerException) as exc:
        raise EnvironmentProblem(f"could not prepare the task's files: {exc}") from None
    if output.strip() != "ready":
        raise EnvironmentProblem(f"could not prepare the task's files: {copy_error(output) or output.strip()[:300]}")


def copy_error(output: str) -> str | None:
    """What `install` reported, if it failed."""
    for line in output.splitlines():
        name, _, value = line.partition("=")
        if name == COPY_ERROR:
            return base64.b64decode(value.strip() or b"").decode("utf-8", errors="replace").strip()[:300]
    return None


def _prepare(folder: str, also_empty: str | None, empty: bool = True) -> str:
    step = (f"rm -rf {shlex.quote(folder)} && " if empty else "") + f"mkdir -p {shlex.quote(folder)}"
    if also_empty:
        quoted = shlex.quote(also_empty)
        step += f" && rm -rf {quoted} && mkdir -p {quoted} && chmod 777 {quoted}"
    return step


def copy_by_archive(container: str, folder: str, files: dict[str, Path], also_empty: str | None = None,
                    empty: bool = True) -> None:
    """Files too large for install_script: an exec empties the folders, an archive fills them."""
    try:
        output = exec_root(container, f"{_prepare(folder, also_empty, empty)} && echo prepared", done="prepared")
        if output.strip() != "prepared":
            raise EnvironmentProblem(f"could not prepare {folder} in the container: {output.strip()[:300]}")
        docker_client().api.put_archive(container, folder, _archive(files))
    except (APIError, DockerException) as exc:
        raise EnvironmentProblem(f"could not copy files into {folder}: {exc}") from None


def _archive(files: dict[str, Path]) -> bytes:
    return tar_archive(((name, _mode(path), path.read_bytes()) for name, path in sorted(files.items())),
                       mtime=int(time.time()))


def _mode(path: Path) -> int:
    """0o755 for a file executable on the host, else 0o644."""
    return 0o755 if path.stat().st_mode & 0o111 else 0o644
