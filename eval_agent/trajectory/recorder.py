"""Recording a run: an append-only JSON-lines file of events, flushed and fsynced per event, so
a crash, Ctrl-C or SIGKILL loses nothing that happened before it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..events import Event
from .redact import Redactor

FORMAT = "eval-agent.trajectory/1"


def trajectories_dir(home: Path) -> Path:
    return home / "trajectories"


class Recorder:
    def __init__(self, home: Path, run_id: str, session_id: str, redactor: Redactor | None = None):
        self.dir = trajectories_dir(home)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.run_id, self.session_id = run_id, session_id
        self.redactor = redactor or Redactor()
        self.path = self.dir / f"{run_id}.jsonl"
        self._file = open(self.path, "a", encoding="utf-8")
        if self._file.tell() == 0:
            self._write({"type": "header", "format": FORMAT, "run_id": run_id, "session_id": session_id})

    def __call__(self, event: Event) -> None:
        self._write(self.redactor.data(event.to_dict()))

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
