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

from ..events import Event
from .redact import Redactor
from .summary import RunSummary, process_started, this_host

FORMAT = "eval-agent.trajectory/1"


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
        self.dir.mkdir(parents=True, exist_ok=True)
        self.run_id, self.session_id = run_id, session_id
        self.redactor = redactor or Redactor()
        self.path = self.dir / f"{run_id}.jsonl"
        self.summary = RunSummary(run_id=run_id, path=str(self.path))
        self.store = self._open_store(home) if index else None
        self._file = open(self.path, "a", encoding="utf-8")
        if self._file.tell() == 0:
            self._write(header_record(run_id, session_id))

    def __call__(self, event: Event) -> None:
        self._write(self.redactor.data(event.to_dict()))

    def _write(self, record: dict) -> None:
        _write_line(self._file, record)  # the file first: it is the truth, the index a cache
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
        # the run goes on: its file is complete, and `traj reindex` (or the next `traj ls`) adds it
        print(f"eval-agent: the run index is not updated ({exc}); the record is kept in {self.path}",
              file=sys.stderr)
        if getattr(self, "store", None) is not None:
            self.store.close()
        self.store = None

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        if self.store is not None:
            self.store.close()
            self.store = None
