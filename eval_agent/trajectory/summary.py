"""One run's row in the index, built from its events. The Recorder feeds it events as they happen
(so the index is current while the run goes) and `traj reindex` feeds it a file's events: one
code path, so both give the same row."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

# the events that change a run's row; the others (tool_started, notices, ...) leave it as it is
SUMMARY_EVENTS = {"header", "run_started", "model_called", "tool_finished", "run_finished", "verification", "rated"}


@dataclass
class RunSummary:
    run_id: str
    path: str
    session_id: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    request: str = ""
    model: str = ""
    tool_mode: str = ""
    status: str = "running"  # running | finished | limit | error | interrupted | incomplete
    reason: str = ""
    summary: str = ""
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0
    seconds: float | None = None
    task_id: str | None = None
    attempt: int | None = None
    task_family: str | None = None  # a bench task's family (the gym's), for splits by family
    task_difficulty: str | None = None
    tags: list[str] = field(default_factory=list)
    verified: bool | None = None
    reward: float | None = None
    rating: str | None = None
    rating_comment: str = ""
    pid: int | None = None
    pid_started: int | None = None  # the process's start time: a reused pid is not the recorder
    host: str | None = None
    version: str | None = None
    resumed_from: str | None = None

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def apply(self, record: dict[str, Any]) -> bool:
        """Updates the row from one event record; True when the row changed."""
        kind = record.get("type")
        if kind not in SUMMARY_EVENTS:
            return False
        getattr(self, "_on_" + kind)(record)
        return True

    def _on_header(self, record: dict) -> None:
        self.session_id = record.get("session_id")
        self.pid, self.pid_started, self.host = record.get("pid"), record.get("pid_started"), record.get("host")
        self.started_at = self.started_at or record.get("created")

    def _on_run_started(self, record: dict) -> None:
        model = record.get("model") or {}
        task = record.get("task") or {}
        self.session_id = record.get("session_id") or self.session_id
        self.started_at = record.get("time")
        self.request = record.get("request", "")
        self.model = f"{model.get('provider', '')}:{model.get('name', '')}".strip(":")
        self.tool_mode = record.get("tool_mode", "")
        self.version = record.get("version")
        self.resumed_from = record.get("resumed_from")
        self.task_id = task.get("id") or task.get("task_id")
        self.attempt = task.get("attempt")
        self.task_family, self.task_difficulty = task.get("family"), task.get("difficulty")
        self.tags = [str(tag) for tag in task.get("tags") or []]

    def _on_model_called(self, record: dict) -> None:
        self.input_tokens += record.get("input_tokens") or 0
        self.output_tokens += record.get("output_tokens") or 0
        if self.cost is not None:  # one unknown price makes the total unknown, as in the agent
            cost = record.get("cost")
            self.cost = None if cost is None else self.cost + cost

    def _on_tool_finished(self, record: dict) -> None:
        self.steps = max(self.steps, int(record.get("step") or 0))

    def _on_run_finished(self, record: dict) -> None:
        self.status = record.get("status", "finished")
        self.reason, self.summary = record.get("reason", ""), record.get("summary", "")
        self.steps = record.get("steps", self.steps)
        self.input_tokens = record.get("input_tokens", self.input_tokens)
        self.output_tokens = record.get("output_tokens", self.output_tokens)
        self.cost, self.seconds = record.get("cost"), record.get("seconds")
        self.finished_at = record.get("time")

    def _on_verification(self, record: dict) -> None:
        self.verified, self.reward = bool(record.get("passed")), record.get("reward")

    def _on_rated(self, record: dict) -> None:
        self.rating, self.rating_comment = record.get("rating"), record.get("comment") or ""

    def effective_status(self) -> str:
        """`running` only while the recording process lives: a killed run reads `incomplete`."""
        if self.status == "running" and not process_alive(self.pid, self.host, self.pid_started):
            return "incomplete"
        return self.status


def this_host() -> str:
    return socket.gethostname()


def process_started(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as file:
            stat = file.read()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # field 22; the name in () may hold spaces


def process_alive(pid: int | None, host: str | None, started: int | None = None) -> bool:
    if pid is None:
        return False
    if host is not None and host != this_host():
        return True  # another machine's run: it cannot be checked from here
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return started is None or process_started(pid) in (None, started)
