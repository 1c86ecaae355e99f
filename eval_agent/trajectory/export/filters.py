"""Which runs go into a listing or a dataset. Row filters look only at the index (status,
verification, rating, model, time, tags, task, steps); trajectory filters need the recorded
conversation (its length in tokens, its action sequence for dedupe, the per-task cap). Each
filter counts what it dropped, for the export's closing summary."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from ...errors import UsageError
from ..reader import Trajectory
from ..summary import RunSummary

STATUSES = ("finished", "limit", "error", "interrupted", "incomplete", "running")
RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, flag: str) -> float:
    """`2026-01-05`, `2026-01-05T10:30` (local time), or an age: `30m`, `12h`, `3d`, `2w` ago."""
    text = text.strip()
    relative = RELATIVE.match(text)
    if relative:
        return time.time() - float(relative.group(1)) * SECONDS[relative.group(2)]
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise UsageError(f"{flag} {text!r}: give a date (2026-01-05, 2026-01-05T10:30) or an age (30m, 12h, 3d)") from None


@dataclass
class RunFilters:
    """Filters on the index's rows; None (or empty) lets everything through."""

    status: list[str] = field(default_factory=list)
    verified: bool | None = None  # True: passed its tests; False: verified and failed
    rating: str | None = None
    model: str | None = None  # a substring of PROVIDER:NAME
    since: float | None = None
    until: float | None = None
    tags: list[str] = field(default_factory=list)  # every one must be on the run
    task: str | None = None
    min_steps: int | None = None
    max_steps: int | None = None
    families: list[str] = field(default_factory=list)  # a bench task's family is one of these
    exclude_families: list[str] = field(default_factory=list)  # ... and none of these

    def __post_init__(self) -> None:
        unknown = [status for status in self.status if status not in STATUSES]
        if unknown:
            raise UsageError(f"--status {unknown[0]}: use one of {', '.join(STATUSES)}")
        if self.rating not in (None, "good", "bad", "unrated"):
            raise UsageError(f"--rating {self.rating}: use good, bad or unrated")

    def checks(self) -> list[tuple[str, Callable[[RunSummary], bool]]]:
        """(name, keep?) for each filter in use, in the order they are applied."""
        checks: list[tuple[str, Callable[[RunSummary], bool]]] = []
        if self.status:
            checks.append(("status", lambda run: run.effective_status() in self.status))
        if self.verified is not None:
            checks.append(("verified", lambda run: run.verified is self.verified))
        if self.rating is not None:
            wanted = None if self.rating == "unrated" else self.rating
            checks.append(("rating", lambda run: run.rating == wanted))
        if self.model:
            checks.append(("model", lambda run: self.model.lower() in run.model.lower()))
        if self.since is not None:
            checks.append(("since", lambda run: (run.started_at or 0) >= self.since))
        if self.until is not None:
            checks.append(("until", lambda run: (run.started_at or 0) < self.until))
        if self.tags:
            checks.append(("tag", lambda run: set(self.tags) <= set(run.tags)))
        if self.task:
            checks.append(("task", lambda run: run.task_id == self.task))
        if self.families:
            checks.append(("family", lambda run: run.task_family in self.families))
        if self.exclude_families:
            checks.append(("exclude-family", lambda run: run.task_family not in self.exclude_families))
        if self.min_steps is not None:
            checks.append(("min-steps", lambda run: run.steps >= self.min_steps))
        if self.max_steps is not None:
            checks.append(("max-steps", lambda run: run.steps <= self.max_steps))
        return checks

    def describe(self) -> dict:
        """The filters in use, as given (for the dataset card and the summary)."""
        described = {name: value for name, value in (
            ("status", self.status), ("verified", self.verified), ("rating", self.rating), ("model", self.model),
            ("since", _date(self.since)), ("until", _date(self.until)), ("tag", self.tags), ("task", self.task),
            ("min_steps", self.min_steps), ("max_steps", self.max_steps), ("family", self.families),
            ("exclude_family", self.exclude_families)) if value not in (None, [])}
        return described


def select_runs(runs: Iterable[RunSummary], filters: RunFilters, dropped: Counter | None = None) -> list[RunSummary]:
    checks = filters.checks()
    kept = []
    for run in runs:
        failed = next((name for name, keep in checks if not keep(run)), None)
        if failed is None:
            kept.append(run)
        elif dropped is not None:
            dropped[failed] += 1
    return kept


@dataclass
class TrajectoryFilters:
    """Filters that need the recorded conversation; applied in this order, after the row filters."""

    max_tokens: int | None = None  # drop conversations longer than this (the model's own count)
    dedupe: bool = False  # keep one run per (request, action sequence)
    max_per_task: int | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_tokens", "max_per_task", "limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")

    def describe(self) -> dict:
        return {name: value for name, value in (("max_tokens", self.max_tokens), ("dedupe", self.dedupe or None),
                                                ("max_per_task", self.max_per_task), ("limit", self.limit)) if value}


class TrajectorySelector:
    """Stateful: it remembers what it kept (for dedupe, the per-task cap and the limit)."""

    def __init__(self, filters: TrajectoryFilters, dropped: Counter):
        self.filters, self.dropped = filters, dropped
        self.seen: set[str] = set()
        self.per_task: Counter = Counter()
        self.kept = 0

    @property
    def full(self) -> bool:
        return self.filters.limit is not None and self.kept >= self.filters.limit

    def keep(self, trajectory: Trajectory) -> bool:
        filters = self.filters
        if self.full:
            self.dropped["limit"] += 1
            return False
        if filters.max_tokens is not None and trajectory.context_tokens() > filters.max_tokens:
            self.dropped["max-tokens"] += 1
            return False
        if filters.dedupe:
            key = action_key(trajectory)
            if key in self.seen:
                self.dropped["dedupe"] += 1
                return False
            self.seen.add(key)
        task = trajectory.summary.task_id
        if filters.max_per_task is not None and task is not None:
            if self.per_task[task] >= filters.max_per_task:
                self.dropped["max-per-task"] += 1
                return False
            self.per_task[task] += 1
        self.kept += 1
        return True


def action_key(trajectory: Trajectory) -> str:
    """Same request and same actions (tool and arguments, in order): the same example twice."""
    actions = [(step.tool, step.arguments) for step in trajectory.steps()]
    data = json.dumps([trajectory.summary.request.strip(), actions], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def _date(stamp: float | None) -> str | None:
    return None if stamp is None else datetime.fromtimestamp(stamp).isoformat(timespec="minutes")
