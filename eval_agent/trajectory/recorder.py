"""Recording a run: an append-only JSON-lines file of events, flushed and fsynced per event, so
a crash, Ctrl-C or SIGKILL loses nothing that happened before it. The run's row in the SQLite
index is updated from the same events as they are written."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

from ..errors import EnvironmentProblem
from ..events import Event
from .redact import Redactor
from .summary import RunSummary, process_started, this_host

FORMAT = "eval-agent.trajectory/1"


class RecordNotWritten(EnvironmentProblem):
    """The record cannot be written (a full disk, a read-only folder): the run stops, with what
    was recorded so far kept and readable as an incomplete run."""


def not_written(path: Path, exc: OSError) -> RecordNotWritten:
    reason = exc.strerror or str(exc)
    return RecordNotWritten(f"cannot write the run's record {path}: {reason}. What was recorded so far is kept; "
                            f"free space in {path.parent.parent} (EVAL_AGENT_HOME) or point EVAL_AGENT_HOME elsewhere, "
                            "then run again")


def trajectories_dir(home: Path) -> Path:
    return home / "trajectories"


def _write_line(file, record: dict) -> None:
    file.write(json.dumps(record, ensure_ascii=False) + "\n")
    file.flush()
    os.fsync(file.fileno())


def header_record(run_id: str, session_id: str) -> dict:
    """The first line: the format, and the process that records (a dead one means incomplete)."""
    pid = os.getpid()
    return {"type": "header", "format": FORMAT, "run_id": run_id, "session_id": session_id,
            "created": time.time(), "pid": pid, "pid_started": process_started(pid), "host": this_host()}


def append_event(path: Path, event: Event, redactor: Redactor | None = None) -> dict:
    """Appends one event to an existing record (a rating after the run); returns what was written."""
    record = (redactor or Redactor()).data(event.to_dict())
    with open(path, "a", encoding="utf-8") as file:
        _write_line(file, record)
    return record


class Recorder:
    def __init__(self, home: Path, run_id: str, session_id: str, redactor: Redactor | None = None,
                 index: bool = True):
        self.dir = trajectories_dir(home)
        self.run_id, self.session_id = run_id, session_id
        self.redactor = redactor or Redactor()
        self.path = self.dir / f"{run_id}.jsonl"
        self.summary = RunSummary(run_id=run_id, path=str(self.path))
        self.store = None
        self.broken: RecordNotWritten | None = None  # set once a write failed: later events are dropped
        self._index_problem: str | None = None  # said at close, unless the record's own write failed
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise not_written(self.path, exc) from None
        self.store = self._open_store(home) if index else None
        if self._file.tell() == 0:
            self._write(header_record(run_id, session_id))

    def __call__(self, event: Event) -> None:
        self._write(self.redactor.data(event.to_dict()))

    def _write(self, record: dict) -> None:
        if self.broken is not None:
            return  # the first failure was raised; the end of the run must not raise it again
        try:
            _write_line(self._file, record)  # the file first: it is the truth, the index a cache
        except OSError as exc:
            self.broken = not_written(self.path, exc)
            raise self.broken from None
        if self.summary.apply(record) and self.store is not None:
            try:
                self.store.upsert(self.summary)
            except sqlite3.Error as exc:
                self._lose_index(exc)

    def _open_store(self, home: Path):
        from .store import RunStore

        try:
            return RunStore(home)
        except sqlite3.Error as exc:
            self._lose_index(exc)
            return None

    def _lose_index(self, exc: Exception) -> None:
        # the run goes on: its file is complete, and `traj reindex` (or the next `traj ls`) adds it.
        # On a full disk the record's own write is likely to fail next, and say so in one line:
        # this line waits for close(), and is said only if the record was written to the end.
        line = f"eval-agent: the run index is not updated ({exc}); the record is kept in {self.path}"
        if "full" in str(exc):
            self._index_problem = line
        else:
            print(line, file=sys.stderr)
        if getattr(self, "store", None) is not None:
            self.store.close()
        self.store = None

    def close(self) -> None:
        if self._index_problem and self.broken is None:
            print(self._index_problem, file=sys.stderr)
            self._index_problem = None
        if not self._file.closed:
            try:
                self._file.close()
            except OSError:
                pass  # a full disk: the buffered tail is lost, the lines before it are kept
        if self.store is not None:
            self.store.close()
            self.store = None
