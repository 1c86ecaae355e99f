"""A task's environment image: built once per build context, found again by a hash of it.

The tag is `eval-agent-task-<task>:<hash>`, where the hash covers every file sent to the engine
(names, modes, contents), the Dockerfile as built, and the ids of the base images. An unchanged
task is not rebuilt; a changed file, Dockerfile or base image means a new build. A task with a thin
environment (tasks.ThinEnvironment: the gym's) builds only the part before its last COPY, tagged
`eval-agent-task-base:<hash>` by content alone, so every task that shares it shares one image.

A FROM image that is neither here nor pullable (offline machines, private registries) is
replaced by `--base-image NAME` when one is given; without one the task fails with that advice."""

from __future__ import annotations

import collections
import hashlib
import io
import re
import threading
from pathlib import Path
from typing import Callable

import docker
from docker.errors import APIError, DockerException, ImageNotFound
from docker.utils.build import exclude_paths

from ..errors import EnvironmentProblem
from ..sandbox.engine import LABEL
from ..sandbox.tar import tar_archive
from .tasks import Task

IMAGE_PREFIX = "eval-agent-task-"
SHARED_REPOSITORY = "eval-agent-task-base"
TASK_LABEL = f"{LABEL}.task"
HASH_LABEL = f"{LABEL}.context-hash"
PULL_TIMEOUT = 60.0
BUILD_TIMEOUT = 1800
FROM_LINE = re.compile(r"^(\s*FROM\s+(?:--platform=\S+\s+)?)(\S+)(.*)$", re.IGNORECASE | re.MULTILINE)

Log = Callable[[str], None]

_locks: dict[str, threading.Lock] = collections.defaultdict(threading.Lock)
_locks_guard = threading.Lock()
_pullable: dict[str, bool] = {}  # per process: an offline pull is tried once, not once per task


def image_tag(task: Task, digest: str) -> str:
    slug = re.sub(r"[^a-z0-9_.-]+", "-", task.id.lower()).strip("-.") or "task"
    return f"{IMAGE_PREFIX}{slug[:100]}:{digest[:16]}"


def task_image(task: Task, client: docker.DockerClient, base_image: str | None = None,
               log: Log = lambda line: None, found: dict | None = None) -> str:
    """The tag of the task's environment image, built first when missing. `found` ({reference:
    image}), kept by a caller across tasks, spares asking the engine again for an image it has
    seen: a bench's tasks tend to share a base image, and its workers wait on every question.
    The task's own image is put there too."""
    find = _finder(client, {} if found is None else found)
    if task.dockerfile is None:  # Harbor's [environment] docker_image: a ready image
        if not _available(client, task.image, log, find):
            raise EnvironmentProblem(f"task {task.id}: image {task.image} is neither here nor pullable")
        return task.image
    text = task.thin.base if task.thin else task.dockerfile.read_text(encoding="utf-8")
    dockerfile = _with_bases(task, text, client, base_image, log, find)
    entries = _context_entries(task, dockerfile, leave_out=task.thin.folder if task.thin else None)
    digest = _digest(entries, _base_ids(find, dockerfile))
    tag = f"{SHARED_REPOSITORY}:{digest[:16]}" if task.thin else image_tag(task, digest)
    with _lock(tag):
        if find(tag) is not None:
            return tag
        log(f"building the environment {'shared by ' if task.thin else 'of '}{task.id}{' and its kin' if task.thin else ''}")
        _build(client, task, tag, digest, entries)
        find(tag)  # remembered for the caller, who reads its user
    return tag


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks[key]


def _finder(client: docker.DockerClient, found: dict) -> Callable[[str], object]:
    """_find, remembering what it found (not what it missed: that may be pulled or built)."""
    def find(ref: str):
        if ref not in found:
            image = _find(client, ref)
            if image is None:
                return None
            found[ref] = image
        return found[ref]
    return find


def _find(client: docker.DockerClient, ref: str):
    try:
        return client.images.get(ref)
    except ImageNotFound:
        return None
    except (APIError, DockerException):
        return None


def _available(client: docker.DockerClient, ref: str, log: Log, find: Callable[[str], object]) -> bool:
    if find(ref) is not None:
        return True
    with _lock(f"pull:{ref}"):
        if ref not in _pullable:
            _pullable[ref] = _pull(client, ref)
            if not _pullable[ref]:
                log(f"{ref} cannot be pulled")
    return _pullable[ref]


def _pull(client: docker.DockerClient, ref: str) -> bool:
    # in a thread: a network that swallows packets costs PULL_TIMEOUT, not the client's timeout
    outcome: list[bool] = []

    def pull() -> None:
        try:
            client.images.pull(ref)
            outcome.append(True)
        except (APIError, DockerException):
            outcome.append(False)

    worker = threading.Thread(target=pull, name="eval-agent-pull", daemon=True)
    worker.start()
    worker.join(PULL_TIMEOUT)
    return bool(outcome and outcome[0])


def _with_bases(task: Task, text: str, client: docker.DockerClient, base_image: str | None, log: Log,
                find: Callable[[str], object]) -> str:
    """The Dockerfile with every FROM image that cannot be had replaced by `base_image`."""
    stages: set[str] = set()

    def replace(match: re.Match) -> str:
        head, ref, tail = match.groups()
        alias = re.search(r"\s+AS\s+(\S+)", tail, re.IGNORECASE)
        keep = ref.lower() == "scratch" or ref in stages or "$" in ref or _available(client, ref, log, find)
        if alias:
            stages.add(alias.group(1))
        if keep:
            return match.group(0)
        if base_image is None:
            raise EnvironmentProblem(
                f"task {task.id}: its base image {ref} is not here and cannot be pulled; "
                "pass --base-image NAME to build it on an image you have (e.g. eval-agent-sandbox:VERSION)"
            )
        if not _available(client, base_image, log, find):
            raise EnvironmentProblem(f"--base-image {base_image} is neither here nor pullable")
        return f"{head}{base_image}{tail}"

    return FROM_LINE.sub(replace, text)


def _base_ids(find: Callable[[str], object], dockerfile: str) -> list[str]:
    ids = []
    for _, ref, _ in FROM_LINE.findall(dockerfile):
        image = find(ref)
        ids.append(image.id if image is not None else ref)
    return ids


def _context_entries(task: Task, dockerfile: str, leave_out: Path | None = None) -> list[tuple[str, int, bytes]]:
    """(name, mode, contents) of every file sent to the engine, .dockerignore applied (and the
    folder `leave_out`, a thin environment's files), with the Dockerfile as it will be built."""
    root = task.build_context
    name = task.dockerfile.relative_to(root).as_posix()
    patterns = []
    ignore = root / ".dockerignore"
    if ignore.is_file():
        patterns = [line.strip() for line in ignore.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if leave_out is not None:
        folder = leave_out.relative_to(root.resolve()).as_posix()
        patterns += [folder, f"{folder}/**"]
    entries = [(name, 0o644, dockerfile.encode("utf-8"))]
    for relative in sorted(exclude_paths(str(root), patterns, dockerfile=name)):
        path = root / relative
        if relative == name or path.is_dir() or path.is_symlink() or not path.is_file():
            continue
        mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
        entries.append((Path(relative).as_posix(), mode, path.read_bytes()))
    return entries


def _digest(entries: list[tuple[str, int, bytes]], base_ids: list[str]) -> str:
    digest = hashlib.sha256()
    for name, mode, data in entries:
        digest.update(f"{name}\0{mode:o}\0{len(data)}\0".encode())
        digest.update(data)
    digest.update("\0".join(base_ids).encode())
    return digest.hexdigest()


def _context_tar(entries: list[tuple[str, int, bytes]]) -> io.BytesIO:
    # fixed owners and times, so the engine's layer cache holds across checkouts
    return io.BytesIO(tar_archive(entries))


def _build(client: docker.DockerClient, task: Task, tag: str, digest: str, entries) -> None:
    recent: collections.deque[str] = collections.deque(maxlen=12)
    name = entries[0][0]
    try:
        stream = client.api.build(
            fileobj=_context_tar(entries), custom_context=True, dockerfile=name, tag=tag, rm=True, forcerm=True,
            labels={LABEL: "1", TASK_LABEL: "" if task.thin else task.id, HASH_LABEL: digest}, decode=True,
            timeout=BUILD_TIMEOUT,
        )
        for chunk in stream:
            if "error" in chunk:
                recent.append(chunk["error"].strip())
                raise EnvironmentProblem(f"task {task.id}: building its environment failed: {' | '.join(recent)}")
            for line in (chunk.get("stream") or "").splitlines():
                if line.strip():
                    recent.append(line.strip())
    except (APIError, DockerException) as exc:
        raise EnvironmentProblem(f"task {task.id}: building its environment failed: {str(exc).splitlines()[0]}") from None
    if _find(client, tag) is None:
        raise EnvironmentProblem(f"task {task.id}: the build ended without an image: {' | '.join(recent)}")
    if not task.thin:  # a shared image is named by its content alone: others of its kind stay
        _remove_stale(client, tag)


def _remove_stale(client: docker.DockerClient, tag: str) -> None:
    """Older builds of the same task would pile up, one per change of its folder."""
    repository = tag.rsplit(":", 1)[0]
    for image in client.images.list(name=repository):
        if tag not in image.tags:
            try:
                client.images.remove(image.id)
            except (APIError, DockerException):
                pass  # a container still uses it: leave it
