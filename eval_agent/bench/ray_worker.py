"""What runs on a Ray node for `bench --executor ray`: one attempt (run_attempt), and the sweep
after lost or cancelled attempts (sweep_node). Both use the node's own Docker engine: the one
DOCKER_HOST names in the environment `ray start` ran in, else the default socket.

An attempt records into a folder of its own on the node and hands its trajectory back with its
result: the driver is the one writer of results, trajectories and index. A worker killed
mid-attempt leaves that folder; the sweep returns what it holds and removes the attempt's
containers."""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import socket
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from rich.console import Console

from ..config import Settings
from .progress import Progress
from .report import AttemptResult
from .runner import BenchOptions, BenchRunner, bench_container_prefix, remove_containers
from .task_archive import unpack_task
from .tasks import Task

SLOT = "eval_agent_slot"  # the Ray resource a node offers per attempt it may run at once

_found: dict = {}  # the images this worker process has seen, kept across its attempts


@dataclass
class AttemptJob:
    bench_id: str
    key: str  # unique per try of an attempt: names its folder and its container on the node
    task: Task  # with the driver's paths; unpacked from the archive on the node
    digest: str  # the task archive's
    attempt: int
    settings: Settings
    options: BenchOptions
    model_servers: dict | None = None  # {node id: NodeModel actor}: the embedded model, one per node


@dataclass
class AttemptDone:
    result: AttemptResult
    records: dict[str, bytes]  # trajectory file name -> contents
    host: str


def node_root() -> Path:
    return Path(tempfile.gettempdir()) / f"eval-agent-ray-{os.getuid()}"


def attempt_folder(bench_id: str, key: str) -> Path:
    return node_root() / "attempts" / bench_id / key


@contextmanager
def node_lock(name: str) -> Iterator[None]:
    """Held by one process of this node at a time: a task's image is built once per node."""
    folder = node_root() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_attempt(job: AttemptJob, archive: bytes) -> AttemptDone:
    if job.model_servers:
        import ray

        from .ray_models import use_node_model

        use_node_model(ray, job.model_servers)
    task = unpack_task(job.task, archive, job.digest, node_root() / "tasks")
    folder = attempt_folder(job.bench_id, job.key)
    options = replace(job.options, out=folder / "bench", jobs=1, executor="threads")
    # the container is named eval-agent-bench-BENCH-KEY-1: the sweep finds it by that prefix
    runner = BenchRunner([task], job.settings, options, home=folder / "home", bench_id=f"{job.bench_id}-{job.key}",
                         found_images=_found)
    progress = Progress(1, 1, console=Console(file=io.StringIO()), live=False)  # the driver shows progress
    runner.progress = progress
    try:
        with node_lock(job.digest[:32]):
            runner.image_for(task)  # the other slots of this node wait here, then find it built
    except Exception:
        pass  # the attempt tries again and records why it could not
    result = runner.run_one(task, job.attempt, progress)
    records = _records(folder)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.rmdir()  # the bench's folder on this node, once its last attempt here is done
    except OSError:
        pass  # another attempt of the bench still works in it
    return AttemptDone(result, records, socket.gethostname())


def _records(folder: Path) -> dict[str, bytes]:
    found = sorted((folder / "home" / "trajectories").glob("*.jsonl"))
    return {path.name: path.read_bytes() for path in found}


def sweep_node(bench_id: str, keys: list[str] | None) -> dict[str, dict[str, bytes]]:
    """On this node: removes the containers of the given attempts (None: of the whole bench), and
    returns and removes what their folders recorded, as {key: {file name: contents}}."""
    keys_or_all = keys if keys is not None else [""]
    remove_containers(tuple(bench_container_prefix(bench_id, key) for key in keys_or_all))
    base = node_root() / "attempts" / bench_id
    folders = [base / key for key in keys] if keys is not None else sorted(base.glob("*"))
    found = {}
    for folder in folders:
        if folder.is_dir():
            records = _records(folder)
            if records:
                found[folder.name] = records
            shutil.rmtree(folder, ignore_errors=True)
    if keys is None:
        shutil.rmtree(base, ignore_errors=True)
    return found
