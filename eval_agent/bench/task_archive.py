"""A task's files, packed on the bench's driver and unpacked on a Ray node: workers get the task
folders through Ray's object store, not through a shared file system.

The archive holds every file the task refers to (its folder, and any test file, build context or
solution kept elsewhere) under its absolute path; a node unpacks it once per content digest and
points the task's paths there."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import shutil
import tarfile
from pathlib import Path

from ..sandbox.tar import tar_archive
from .tasks import Task


def _referenced(task: Task) -> list[Path]:
    paths = [task.path, task.build_context, task.dockerfile, task.solution_script, task.solution_yaml,
             *task.test_files.values(), task.thin.folder if task.thin else None]
    return [Path(path).resolve() for path in paths if path is not None]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return [file for file in sorted(path.rglob("*")) if file.is_file()] if path.is_dir() else []


def pack_task(task: Task) -> tuple[bytes, str]:
    """(the tar archive, its sha256): the same files give the same digest on every run."""
    files = sorted({file for path in _referenced(task) for file in _files(path)})
    entries = [(str(file.relative_to(file.anchor)), file.stat().st_mode & 0o777, file.read_bytes()) for file in files]
    data = tar_archive(entries)
    return data, hashlib.sha256(data).hexdigest()


def unpack_task(task: Task, data: bytes, digest: str, root: Path) -> Task:
    """The task with its paths under root/DIGEST, unpacked there unless another attempt on this
    node already did (the folder appears whole or not at all: unpacked aside, then renamed)."""
    folder = root / digest[:32]
    if not folder.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        aside = root / f".{digest[:32]}.{os.getpid()}"
        shutil.rmtree(aside, ignore_errors=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(aside, filter="data")
        try:
            aside.rename(folder)
        except OSError:  # another worker of this node was first: its copy is the same
            shutil.rmtree(aside, ignore_errors=True)

    def moved(path: Path | None) -> Path | None:
        if path is None:
            return None
        resolved = Path(path).resolve()
        return folder / resolved.relative_to(resolved.anchor)

    changes: dict = dict(path=moved(task.path), build_context=moved(task.build_context),
                         dockerfile=moved(task.dockerfile), solution_script=moved(task.solution_script),
                         solution_yaml=moved(task.solution_yaml),
                         test_files={name: moved(path) for name, path in task.test_files.items()})
    if task.thin is not None:
        changes["thin"] = dataclasses.replace(task.thin, folder=moved(task.thin.folder))
    return dataclasses.replace(task, **changes)
