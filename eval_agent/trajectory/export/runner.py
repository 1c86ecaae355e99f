"""The export pipeline: index rows -> row filters -> read each trajectory -> trajectory filters ->
one example -> the format's record -> the redaction gate -> the writer. Output is written to a
staging path beside --out and moved into place only when everything passed the gate, so a
refused export leaves nothing behind and an earlier export stays as it was."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ... import __version__
from ... import plugins
from ...errors import EnvironmentProblem, UsageError
from ..reader import TrajectoryError, read_trajectory
from ..store import open_store, sync
from .examples import ROLES, role_examples
from .filters import RunFilters, TrajectoryFilters, TrajectorySelector, select_runs
from .gate import SecretGate

# the writers are entry points (plugins.py): the built-ins in this order, then installed ones by name
FORMAT_ORDER = ("openai", "trl", "sharegpt", "alpaca")
WRITER_METHODS = ("folder", "convert", "write", "close", "abort")
MARKER = "eval-agent-export.json"  # in a folder export: what was exported, and that we may replace it


@dataclass
class ExportOptions:
    format: str
    out: Path
    run_filters: RunFilters = field(default_factory=RunFilters)
    trajectory_filters: TrajectoryFilters = field(default_factory=TrajectoryFilters)
    val_ratio: float = 0.0
    seed: int = 0
    weight_failed_steps: int | None = None
    role: str = "agent"  # agent: the working model's conversations; reviewer: the review turns

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise UsageError(f"--role {self.role}: use one of {', '.join(ROLES)}")
        formats = format_names()
        if self.format not in formats:
            raise UsageError(f"--format {self.format}: use one of {', '.join(formats)}")
        if not 0 <= self.val_ratio < 1:
            raise UsageError("--val-ratio must be at least 0 and below 1")
        if self.val_ratio and self.format != "trl":
            raise UsageError("--val-ratio splits the trl format only")
        if self.weight_failed_steps not in (None, 0, 1):
            raise UsageError("--weight-failed-steps takes 0 or 1 (OpenAI's message weights)")
        if self.weight_failed_steps is not None and self.format != "openai":
            raise UsageError("--weight-failed-steps applies to the openai format only")


@dataclass
class ExportSummary:
    format: str
    out: Path
    indexed: int = 0  # runs in the index
    read: int = 0  # trajectory files read
    written: int = 0
    dropped: Counter = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)
    steps: int = 0
    tokens: int = 0
    redactions: int = 0
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    splits: dict[str, int] | None = None  # trl: rows per split
    val_ratio: float = 0.0
    role: str = "agent"

    def lines(self) -> list[str]:
        dropped = " · ".join(f"{name} {count}" for name, count in self.dropped.items() if count) or "none"
        what = f"{self.written} of {self.indexed} runs" if self.role == "agent" else \
            f"{self.written} review turns from {self.indexed} runs"
        lines = [f"exported {what} as {self.format} to {self.out} "
                 f"({self.read} trajectories read, {self.seconds:.1f} s)",
                 f"dropped: {dropped}",
                 f"steps {self.steps:,} · {self.tokens:,} tokens of conversation · redactions {self.redactions:,}"]
        if self.splits is not None and self.splits.get("test") is not None:
            line = f"splits: train {self.splits['train']:,} · test {self.splits['test']:,}"
            if self.splits["test"] == 0 and self.written and self.val_ratio:
                line += f" (no run fell in the test split at --val-ratio {self.val_ratio}: too few runs)"
            lines.append(line)
        if self.unreadable:
            lines.append("unreadable, left out: " + "; ".join(self.unreadable[:3]) + (" ..." if len(self.unreadable) > 3 else ""))
        return lines


def format_names() -> list[str]:
    return plugins.names(plugins.EXPORT_FORMATS, FORMAT_ORDER)


def load_writer(fmt: str) -> Any:
    """The writer class of `fmt`, imported now (only the one asked for)."""
    plugin = plugins.find(plugins.EXPORT_FORMATS, fmt)
    if plugin is None:
        raise UsageError(f"--format {fmt}: use one of {', '.join(format_names())}")
    return plugin.expect(plugin.load(), "an export writer", WRITER_METHODS)


def require_export_packages(fmt: str) -> None:
    """The export extra's packages for the parquet format, named in one line when missing (the
    JSON-lines formats need only what a plain install has)."""
    import importlib.util

    needed = ["pyarrow"] if fmt == "trl" else []
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise EnvironmentProblem(f"export --format {fmt} needs {', '.join(missing)}: pip install 'eval-agent[export]'")


def export_runs(home: Path, options: ExportOptions, *, on_selected: Callable[[int], None] | None = None,
                on_progress: Callable[[], None] | None = None, environ: dict[str, str] | None = None) -> ExportSummary:
    started = time.monotonic()
    require_export_packages(options.format)
    out = options.out.expanduser().resolve()
    writer_class = load_writer(options.format)
    _check_out(out, writer_class.folder)
    summary = ExportSummary(format=options.format, out=out, val_ratio=options.val_ratio, role=options.role)
    with open_store(home) as store:
        sync(store)
        runs = store.runs()
    summary.indexed = len(runs)
    selected = select_runs(runs, options.run_filters, summary.dropped)
    if on_selected:
        on_selected(len(selected))
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    _remove(staging)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = writer_class(staging, val_ratio=options.val_ratio, seed=options.seed,
                          weight_failed_steps=options.weight_failed_steps)
    selector = TrajectorySelector(options.trajectory_filters, summary.dropped)
    try:
        with SecretGate(environ) as gate, _without_cycle_collection():
            for run in selected:
                if on_progress:
                    on_progress()
                if selector.full:
                    summary.dropped["limit"] += 1
                    continue
                try:
                    trajectory = read_trajectory(Path(run.path))
                except TrajectoryError as exc:
                    summary.dropped["unreadable"] += 1
                    summary.unreadable.append(str(exc))
                    continue
                summary.read += 1
                if not selector.keep(trajectory):
                    continue
                examples = role_examples(trajectory, options.role)
                if not examples:
                    summary.dropped["no review turn"] += 1
                for example in examples:
                    record = gate.clean(writer.convert(example), trajectory.run_id)
                    writer.write(record, example)
                    summary.written += 1
                    summary.steps += example.steps
                if examples and options.role == "agent":
                    summary.tokens += trajectory.context_tokens()
            summary.redactions = gate.redactions
        files = writer.close(_card(summary, options))
        summary.splits = getattr(writer, "counts", None)
    except BaseException:
        writer.abort()
        _remove(staging)
        raise
    if writer_class.folder:
        (staging / MARKER).write_text(json.dumps(_card(summary, options), indent=2, default=str) + "\n")
    _remove(out)
    staging.rename(out)
    summary.files = [out / path.relative_to(staging) if writer_class.folder else out for path in files]
    summary.seconds = time.monotonic() - started
    return summary


@contextlib.contextmanager
def _without_cycle_collection():
    """Exported data is trees of dicts and lists, freed by reference counting alone; the cycle
    collector would only re-walk the rows a writer buffers, again and again (a quarter of a trl
    export's time). It runs again, as before, when the export ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _card(summary: ExportSummary, options: ExportOptions) -> dict[str, Any]:
    return {"format": options.format, "version": __version__, "created": time.strftime("%Y-%m-%d %H:%M"),
            "indexed": summary.indexed, "read": summary.read, "written": summary.written,
            "dropped": dict(summary.dropped), "steps": summary.steps, "tokens": summary.tokens,
            "redactions": summary.redactions, "val_ratio": options.val_ratio, "seed": options.seed,
            "filters": {**options.run_filters.describe(), **options.trajectory_filters.describe()}}


def _check_out(out: Path, folder: bool) -> None:
    if folder:
        if out.is_file():
            raise UsageError(f"--out {out} is a file; this format writes a folder")
        if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
            raise UsageError(f"--out {out} is a folder with other files in it; give a new or empty folder")
    elif out.is_dir():
        raise UsageError(f"--out {out} is a folder; this format writes a file (e.g. {out / 'train.jsonl'})")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
