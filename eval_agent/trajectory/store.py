"""The SQLite index of runs: $EVAL_AGENT_HOME/index.sqlite, one row per trajectory file.

The files are the truth; the index is a cache that makes `traj ls` and export filters fast. The
Recorder keeps it current as a run goes; `traj reindex` rebuilds it from the files. Its schema
grows by named migrations, applied once each, in order, and listed in `schema_migrations`."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Iterator

from ..errors import UsageError
from .summary import RunSummary

INDEX_NAME = "index.sqlite"
RATINGS = ("good", "bad")

# (name, statements): never edit or reorder a released one; add a new one at the end
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("001_create_runs", [
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY, session_id TEXT, path TEXT NOT NULL,
            started_at REAL, finished_at REAL, request TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '',
            tool_mode TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'running', reason TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL DEFAULT '', steps INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
            cost REAL, seconds REAL, task_id TEXT, attempt INTEGER, pid INTEGER, host TEXT, version TEXT)""",
        "CREATE INDEX runs_by_start ON runs (started_at)",
    ]),
    ("002_verification_and_rating", [
        "ALTER TABLE runs ADD COLUMN verified INTEGER",
        "ALTER TABLE runs ADD COLUMN reward REAL",
        "ALTER TABLE runs ADD COLUMN rating TEXT",
        "ALTER TABLE runs ADD COLUMN rating_comment TEXT NOT NULL DEFAULT ''",
    ]),
    ("003_tags", [
        "CREATE TABLE run_tags (run_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (run_id, tag))",
        "CREATE INDEX run_tags_by_tag ON run_tags (tag)",
    ]),
    ("004_resume_and_process", [
        "ALTER TABLE runs ADD COLUMN resumed_from TEXT",
        "ALTER TABLE runs ADD COLUMN pid_started INTEGER",
    ]),
    ("005_task_family", [
        "ALTER TABLE runs ADD COLUMN task_family TEXT",
        "ALTER TABLE runs ADD COLUMN task_difficulty TEXT",
    ]),
]

COLUMNS = [f.name for f in fields(RunSummary) if f.name != "tags"]


def index_path(home: Path) -> Path:
    return home / INDEX_NAME


class RunStore:
    def __init__(self, home: Path):
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        # autocommit mode: transactions are explicit (BEGIN IMMEDIATE), so concurrent writers
        # (parallel bench runs) wait for each other instead of failing half-way
        self.db = sqlite3.connect(index_path(home), timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self._use_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")  # the files are fsynced; the index can be rebuilt
        self._migrate()

    def _use_wal(self, patience: float = 30.0) -> None:
        # switching a new index to WAL can fail at once with "database is locked" while another
        # process (a parallel bench's other worker) creates it too; SQLite's busy wait does not
        # cover that switch, so it is tried again here
        deadline = time.monotonic() + patience
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- schema ---------------------------------------------------------------------
    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        for name, statements in MIGRATIONS:
            if self._applied(name):
                continue
            with self._transaction() as db:
                if self._applied(name):  # another process got there first
                    continue
                for statement in statements:
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))

    def _applied(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone() is not None

    def migrations(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT name FROM schema_migrations ORDER BY name")]

    # -- writing --------------------------------------------------------------------
    def upsert(self, summary: RunSummary) -> None:
        with self._transaction() as db:
            self._upsert(db, summary)

    def _upsert(self, db: sqlite3.Connection, summary: RunSummary) -> None:
        values = [getattr(summary, name) for name in COLUMNS]
        placeholders = ", ".join("?" for _ in COLUMNS)
        updates = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS if name != "run_id")
        db.execute(f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({placeholders}) "
                   f"ON CONFLICT (run_id) DO UPDATE SET {updates}", values)
        db.execute("DELETE FROM run_tags WHERE run_id = ?", (summary.run_id,))
        db.executemany("INSERT OR IGNORE INTO run_tags VALUES (?, ?)", [(summary.run_id, tag) for tag in summary.tags])

    def replace_all(self, summaries: list[RunSummary]) -> None:
        """Reindex: the rows become exactly these, in one transaction."""
        with self._transaction() as db:
            db.execute("DELETE FROM runs")
            db.execute("DELETE FROM run_tags")
            for summary in summaries:
                self._upsert(db, summary)

    # -- reading --------------------------------------------------------------------
    def runs(self) -> list[RunSummary]:
        """Every indexed run, oldest first."""
        tags: dict[str, list[str]] = {}
        for run_id, tag in self.db.execute("SELECT run_id, tag FROM run_tags ORDER BY tag"):
            tags.setdefault(run_id, []).append(tag)
        rows = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY started_at, run_id").fetchall()
        return [_summary(row, tags.get(row["run_id"], [])) for row in rows]

    def get(self, run_id: str) -> RunSummary | None:
        row = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        tags = [tag for (tag,) in self.db.execute("SELECT tag FROM run_tags WHERE run_id = ?", (run_id,))]
        return _summary(row, tags)

    def run_ids(self) -> set[str]:
        return {run_id for (run_id,) in self.db.execute("SELECT run_id FROM runs")}

    def resolve(self, reference: str) -> RunSummary:
        """A run id, a unique prefix of one, or `last` (the latest started) -> its row."""
        reference = reference.strip()
        if reference == "last":
            row = self.db.execute("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1").fetchone()
            if row is None:
                raise UsageError("no runs recorded yet")
            return self.get(row[0])
        exact = self.get(reference)
        if exact is not None:
            return exact
        pattern = reference.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [r for (r,) in self.db.execute("SELECT run_id FROM runs WHERE run_id LIKE ? ESCAPE '\\' LIMIT 6", (pattern,))]
        if not matches:
            raise UsageError(f"no run {reference!r}: `eval-agent traj ls` lists them "
                             "(`eval-agent traj reindex` if its file is there but not listed)")
        if len(matches) > 1:
            raise UsageError(f"{reference!r} matches several runs ({', '.join(matches[:5])}): give more of the id")
        return self.get(matches[0])


def _summary(row: sqlite3.Row, tags: list[str]) -> RunSummary:
    values = {name: row[name] for name in COLUMNS}
    if values["verified"] is not None:
        values["verified"] = bool(values["verified"])
    return RunSummary(**values, tags=tags)


def open_store(home: Path) -> RunStore:
    try:
        return RunStore(home)
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"the run index {index_path(home)} cannot be read ({exc}); "
                         "`eval-agent traj reindex` rebuilds it from the trajectory files") from None


def sync(store: RunStore) -> int:
    """Adds the trajectory files that the index does not list (a run recorded while the index
    was unavailable, files copied in); returns how many. Unreadable files are left to reindex.
    A run listed as running whose recording process is gone is stored as incomplete, as a
    reindex would read it."""
    from .reader import TrajectoryError, read_summary
    from .recorder import trajectories_dir

    folder = trajectories_dir(store.home)
    if not folder.is_dir():
        return 0
    running = [run_id for (run_id,) in store.db.execute("SELECT run_id FROM runs WHERE status = 'running'")]
    for summary in filter(None, map(store.get, running)):
        if summary.effective_status() == "incomplete":
            summary.status = "incomplete"
            store.upsert(summary)
    known = store.run_ids()
    added = 0
    for path in sorted(folder.glob("*.jsonl")):
        if path.stem in known:
            continue
        try:
            store.upsert(read_summary(path))
        except TrajectoryError:
            continue
        added += 1
    return added


def rate_run(home: Path, run_id: str, rating: str, comment: str = "") -> RunSummary:
    """Rates a run good or bad: the rating goes into the index and is appended to the run's
    record (so a reindex keeps it). `run_id` may be a unique prefix or `last`."""
    from ..events import Rated
    from .recorder import append_event

    if rating not in RATINGS:
        raise UsageError(f"rating {rating!r}: use good or bad")
    with open_store(home) as store:
        sync(store)
        summary = store.resolve(run_id)
        if not Path(summary.path).is_file():
            raise UsageError(f"the record of run {summary.run_id} is gone ({summary.path}); "
                             "`eval-agent traj reindex` drops it from the index")
        record = append_event(Path(summary.path), Rated(run_id=summary.run_id, rating=rating, comment=comment or ""))
        summary.apply(record)
        store.upsert(summary)
        return summary


def summary_json(summary: RunSummary) -> dict:
    data = {name: getattr(summary, name) for name in COLUMNS}
    data["tags"] = list(summary.tags)
    data["status"] = summary.effective_status()
    return json.loads(json.dumps(data))

