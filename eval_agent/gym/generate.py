"""`eval-agent tasks generate`: N tasks from the families, each validated before it is written.

Task i comes from family i mod F (the families taken in turn) at difficulty (i div F) mod D, with a
random generator seeded by (seed, family, i): the same command gives the same tasks. A task whose
tests and files repeat an earlier one's is drawn again, so N tasks have N different answers. Tasks
are written to DIR/.staging first and moved into DIR only once validated; one that fails
validation (a family's bug) is drawn again with another seed, a bounded number of times, and
reported. A rerun into the same DIR keeps what is there and makes only what is missing."""

from __future__ import annotations

import hashlib
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..bench.tasks import load_task
from ..errors import UsageError
from .registry import choose
from .spec import DIFFICULTIES, Family, GeneratedTask
from .validate import Validator, Verdict
from .writer import write_task

DRAWS = 4  # tries per task: a repeated answer or a failed validation draws again
STAGING = ".staging"


@dataclass
class Planned:
    index: int
    family: Family
    difficulty: str
    id: str = ""
    draw: int = 0


@dataclass
class GenerateReport:
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # there from an earlier run
    failed: list[Verdict] = field(default_factory=list)  # tasks that could not be made valid
    invalid_draws: list[Verdict] = field(default_factory=list)  # every draw that failed validation


def task_id(family: str, seed: int, index: int) -> str:
    return f"{family}-s{seed}-{index:05d}"


def draw(planned: Planned, seed: int) -> GeneratedTask:
    rng = random.Random(f"{seed}:{planned.family.name}:{planned.index}:{planned.draw}")
    task = planned.family.generate(rng, planned.difficulty)
    if task.family != planned.family.name or task.difficulty != planned.difficulty:
        raise RuntimeError(f"family {planned.family.name} made a task of {task.family}/{task.difficulty}")
    return task


def answer_key(task: GeneratedTask) -> str:
    digest = hashlib.sha256(task.tests.strip().encode())
    for name, contents in sorted(task.files.items()):
        digest.update(name.encode() + b"\0" + (contents if isinstance(contents, bytes) else contents.encode()))
    return digest.hexdigest()


def generate(out: Path, count: int, seed: int, families: list[str] | None = None,
             difficulties: list[str] | None = None, jobs: int = 2, validate: bool = True,
             base_image: str | None = None, log: Callable[[str], None] = lambda line: None) -> GenerateReport:
    if count < 1:
        raise UsageError("-n must be at least 1")
    chosen = choose(families)
    levels = list(dict.fromkeys(difficulties or DIFFICULTIES))
    if unknown := [level for level in levels if level not in DIFFICULTIES]:
        raise UsageError(f"--difficulty {', '.join(unknown)}: use {', '.join(DIFFICULTIES)}")
    out.mkdir(parents=True, exist_ok=True)
    staging = out / STAGING
    report = GenerateReport()
    pending = []
    for index in range(count):
        family = chosen[index % len(chosen)]
        planned = Planned(index, family, levels[(index // len(chosen)) % len(levels)], task_id(family.name, seed, index))
        if (out / planned.id / "task.toml").is_file():
            report.kept.append(planned.id)
        else:
            pending.append(planned)
    seen = {answer_key_of_folder(out / name) for name in report.kept}
    validator = Validator(base_image, separate=False)
    while pending:
        written = []
        for planned in pending:
            task = _fresh(planned, seed, seen)
            if task is None:
                report.failed.append(Verdict(planned.id, False, "every draw repeated an earlier task's answer"))
                continue
            written.append((planned, write_task(task, staging / planned.id, f"{seed}:{planned.index}:{planned.draw}")))
        verdicts = (validator.check_all([load_task(folder) for _, folder in written], jobs,
                                        on_verdict=lambda v: log(f"{'ok  ' if v.ok else 'BAD '} {v.task}"
                                                                 + (f": {v.problem}" if v.problem else "")))
                    if validate else [Verdict(planned.id, True) for planned, _ in written])
        pending = []
        for (planned, folder), verdict in zip(written, verdicts):
            if verdict.ok:
                target = out / planned.id
                if target.exists():
                    shutil.rmtree(target)
                folder.rename(target)
                report.written.append(planned.id)
                continue
            report.invalid_draws.append(verdict)
            planned.draw += 1
            if planned.draw < DRAWS:
                pending.append(planned)
            else:
                report.failed.append(verdict)
    shutil.rmtree(staging, ignore_errors=True)
    return report


def _fresh(planned: Planned, seed: int, seen: set[str]) -> GeneratedTask | None:
    """A draw whose answer no earlier task has (each repeat draws again, a bounded number of times)."""
    while planned.draw < DRAWS:
        task = draw(planned, seed)
        key = answer_key(task)
        if key not in seen:
            seen.add(key)
            return task
        planned.draw += 1
    return None


def answer_key_of_folder(folder: Path) -> str:
    """answer_key of a task written earlier, from its folder."""
    files_root = folder / "environment" / "files"
    digest = hashlib.sha256((folder / "tests" / "test_outputs.py").read_text(encoding="utf-8").strip().encode())
    for path in sorted(p for p in files_root.rglob("*") if p.is_file() and p.name != ".gym-setup.sh"):
        digest.update(path.relative_to(files_root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
