"""The sandbox image: build it once (online from debian:bookworm-slim, or offline from a
debootstrap base), find it again in milliseconds, and list or prune eval-agent's containers."""

from __future__ import annotations

import collections
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from eval_agent import __version__
from eval_agent.errors import EnvironmentProblem
from eval_agent.resources import sandbox_image_dir

from .engine import LABEL, OWNER_HOST, OWNER_PID, docker_client, owner_alive
from .tar import tar_archive

IMAGE_REPO = "eval-agent-sandbox"
HASH_LABEL = f"{LABEL}.context-hash"
VERSION_LABEL = f"{LABEL}.version"
BASE_LABEL = f"{LABEL}.base"
IMAGE_LABEL = f"{LABEL}.image"
LABEL_SCHEMA = b"labels/2"  # part of the context hash: images labelled the old way get rebuilt
REGISTRY_BASE = "debian:bookworm-slim"
OFFLINE_BASE = "eval-agent-base:bookworm"
CONTEXT_FILES = ("Dockerfile", "build-base.sh", "packages.txt")  # nothing else is sent
PULL_TIMEOUT = 60.0  # offline, the engine fails the pull at once; this guards a hanging network
BUILD_TIMEOUT = 3600  # apt on a slow mirror can be quiet for a while

Log = Callable[[str], None]


def image_tag() -> str:
    return f"{IMAGE_REPO}:{__version__}"


def _context() -> dict[str, bytes]:
    folder = sandbox_image_dir()
    try:
        return {name: (folder / name).read_bytes() for name in CONTEXT_FILES}
    except FileNotFoundError as exc:
        raise EnvironmentProblem(
            f"the sandbox build context is incomplete ({exc.filename} is missing): reinstall eval-agent"
        ) from None


def context_hash() -> str:
    """sha256 over the build context's names and contents; the image carries it as a label, so a
    changed Dockerfile or package list means a rebuild, and nothing else does."""
    digest = hashlib.sha256(LABEL_SCHEMA)
    for name, data in sorted(_context().items()):
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _context_tar() -> io.BytesIO:
    # Built in memory from the listed files only, with fixed metadata, so stray files (caches,
    # editor backups) neither reach the engine nor break its layer cache.
    return io.BytesIO(tar_archive((name, 0o755 if name.endswith(".sh") else 0o644, data)
                                  for name, data in sorted(_context().items())))


def _labels(image) -> dict:
    return image.attrs.get("Config", {}).get("Labels") or {}


def _find_image(client: docker.DockerClient, ref: str):
    try:
        return client.images.get(ref)
    except ImageNotFound:
        return None


def ensure_image(
    client: docker.DockerClient | None = None,
    *,
    rebuild: bool = False,
    base: str | None = None,
    log: Log = print,
    verbose: bool = False,
) -> str:
    """The id of the sandbox image, built first when missing or when its build context changed.
    `rebuild` builds anew without the layer cache; `verbose` streams the build log to `log`,
    which otherwise gets one line before the build and one after."""
    client = client or docker_client()
    tag, wanted = image_tag(), context_hash()
    current = _find_image(client, tag)
    if current is not None and not rebuild and _labels(current).get(HASH_LABEL) == wanted:
        return current.id

    base = base or _choose_base(client, log, verbose)
    log(f"Building the sandbox image {tag} from {base} (once per eval-agent version)...")
    started = time.monotonic()
    # not eval-agent=1: that label marks containers, and images built on this one (the agent's own
    # image, bench task images) would pass it on to containers that are not sandboxes
    labels = {IMAGE_LABEL: "sandbox", HASH_LABEL: wanted, VERSION_LABEL: __version__, BASE_LABEL: base}
    recent: collections.deque[str] = collections.deque(maxlen=15)
    try:
        stream = client.api.build(
            fileobj=_context_tar(), custom_context=True, tag=tag, buildargs={"BASE": base},
            labels=labels, rm=True, forcerm=True, nocache=rebuild, decode=True, timeout=BUILD_TIMEOUT,
        )
        for chunk in stream:
            if "error" in chunk:
                recent.append(chunk["error"].strip())
                raise EnvironmentProblem(_build_failure(tag, base, recent))
            for line in (chunk.get("stream") or chunk.get("status") or "").splitlines():
                if line.strip():
                    recent.append(line.rstrip())
                    if verbose:
                        log(line.rstrip())
    except (APIError, DockerException) as exc:
        recent.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise EnvironmentProblem(_build_failure(tag, base, recent)) from None

    built = client.images.get(tag)
    if current is not None and current.id != built.id:
        _remove_quietly(client, current.id)  # the stale image would otherwise linger, ~600 MB
    log(f"Built {tag} ({built.short_id.split(':')[-1]}) in {time.monotonic() - started:.0f} s.")
    return built.id


def _build_failure(tag: str, base: str, recent: Iterable[str]) -> str:
    tail = " | ".join(recent)
    return f"building {tag} from {base} failed: {tail} (rerun `eval-agent sandbox build --verbose` for the whole log)"


def _remove_quietly(client: docker.DockerClient, image_id: str) -> None:
    try:
        client.images.remove(image_id)
    except (APIError, NotFound):
        pass  # still used by a container, or shared with another tag: leave it


def _choose_base(client: docker.DockerClient, log: Log, verbose: bool) -> str:
    """debian:bookworm-slim when it is here or a registry gives it; else the offline base,
    built with debootstrap from the Debian mirror when it is missing too."""
    if _find_image(client, REGISTRY_BASE) is not None or _pull(client, REGISTRY_BASE, log, verbose):
        return REGISTRY_BASE
    if _find_image(client, OFFLINE_BASE) is None:
        _build_offline_base(client, log)
    return OFFLINE_BASE


def _pull(client: docker.DockerClient, ref: str, log: Log, verbose: bool) -> bool:
    # In a thread, so a network that swallows packets costs PULL_TIMEOUT, not the client's timeout.
    outcome: list[bool] = []

    def pull() -> None:
        try:
            client.images.pull(ref)
            outcome.append(True)
        except DockerException as exc:
            if verbose:
                log(f"pulling {ref} failed: {str(exc).splitlines()[0]}")
            outcome.append(False)

    worker = threading.Thread(target=pull, name="eval-agent-pull", daemon=True)
    worker.start()
    worker.join(PULL_TIMEOUT)
    return bool(outcome and outcome[0])


def _build_offline_base(client: docker.DockerClient, log: Log) -> None:
    if shutil.which("debootstrap") is None:
        raise EnvironmentProblem(
            f"no registry answered for {REGISTRY_BASE} and the offline base {OFFLINE_BASE} needs "
            "debootstrap: run `sudo apt-get install debootstrap`, then `sudo eval-agent sandbox build` once"
        )
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            f"no registry answered for {REGISTRY_BASE}; building the offline base {OFFLINE_BASE} "
            "needs root (debootstrap chroots): run `sudo eval-agent sandbox build` once"
        )
    log(f"No registry answered; building the offline base {OFFLINE_BASE} with debootstrap (about 2 minutes)...")
    script = sandbox_image_dir() / "build-base.sh"
    with tempfile.TemporaryDirectory(prefix="eval-agent-base-") as folder:
        rootfs = os.path.join(folder, "rootfs.tar")
        done = subprocess.run(
            ["bash", str(script), "--tar", rootfs, OFFLINE_BASE], capture_output=True, text=True
        )
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-8:])
            raise EnvironmentProblem(f"building the offline base {OFFLINE_BASE} failed: {tail}")
        repository, _, tag = OFFLINE_BASE.partition(":")
        # through the API, not `docker import`, so no docker CLI is needed
        client.api.import_image_from_file(rootfs, repository=repository, tag=tag)
    if _find_image(client, OFFLINE_BASE) is None:
        raise EnvironmentProblem(f"importing the offline base {OFFLINE_BASE} into Docker failed")


def _ours(client: docker.DockerClient, all: bool, labels: Iterable[str]):
    wanted = [f"{LABEL}=1", *labels]
    return client.containers.list(all=all, filters={"label": wanted}, ignore_removed=True)


def list_containers(
    client: docker.DockerClient | None = None, all: bool = True, labels: Iterable[str] = ()
) -> list[dict]:
    """eval-agent's containers (label eval-agent=1, plus any `labels` given as key=value)."""
    rows = []
    for container in _ours(client or docker_client(), all, labels):
        mounts = container.attrs.get("Mounts") or []
        workspace = next((m.get("Source") for m in mounts if m.get("Destination") == "/workspace"),
                         container.labels.get(f"{LABEL}.workspace") or None)
        rows.append({
            "name": container.name,
            "id": container.short_id,
            "status": container.status,
            "image": container.attrs.get("Config", {}).get("Image", ""),
            "created": container.attrs.get("Created", ""),
            "workspace": workspace,
        })
    return rows


@dataclass
class Pruned:
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, the owner that still runs)


def prune_containers(client: docker.DockerClient | None = None, labels: Iterable[str] = (),
                     everything: bool = False) -> Pruned:
    """Force-removes the containers that a dead eval-agent process left. Those of a process still
    running, and those with no owner recorded (an older eval-agent's), are skipped unless
    `everything`."""
    pruned = Pruned()
    for container in _ours(client or docker_client(), True, labels):
        alive = owner_alive(container.labels)
        if alive is not False and not everything:
            owner = container.labels
            why = "no owner recorded" if alive is None else f"pid {owner.get(OWNER_PID)} on {owner.get(OWNER_HOST)}"
            pruned.skipped.append((container.name, why))
            continue
        try:
            container.remove(force=True)
            pruned.removed.append(container.name)
        except NotFound:
            pass  # gone already (its own session removed it)
    return pruned


def image_status(client: docker.DockerClient | None = None) -> dict:
    """What `doctor` shows: is the sandbox image there, and built from this context?"""
    tag = image_tag()
    image = _find_image(client or docker_client(), tag)
    if image is None:
        return {"tag": tag, "exists": False, "up_to_date": False, "id": None, "size": None, "base": None}
    labels = _labels(image)
    return {
        "tag": tag,
        "exists": True,
        "up_to_date": labels.get(HASH_LABEL) == context_hash(),
        "id": image.id,
        "size": image.attrs.get("Size"),
        "base": labels.get(BASE_LABEL),
    }
