"""The bench's live display: a line per finished attempt, and below it, redrawn in place, the
attempts running now (state, step, tokens, time left) and the totals. Without a terminal (CI,
a pipe) only the lines are printed. Worker threads report; the display is drawn by rich's Live
thread, so every update takes the lock."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..events import Event, ModelCalled, ToolStarted
from ..ui.terminal import console as terminal_console
from .report import AttemptResult


@dataclass
class Running:
    task: str
    attempt: int
    limit: float | None
    state: str = "queued"
    step: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)


class Progress:
    def __init__(self, total: int, jobs: int, done_before: list[AttemptResult] | None = None,
                 console: Console | None = None, live: bool | None = None):
        self.console = console or terminal_console(stderr=True)
        self.live_enabled = self.console.is_terminal if live is None else live
        self.total, self.jobs = total, jobs
        self.skipped = len(done_before or [])
        self.done: list[AttemptResult] = []
        self.running: dict[tuple[str, int], Running] = {}
        self.started = time.monotonic()
        self._lock = threading.RLock()
        self._live: Live | None = None

    # -- reports from the workers ---------------------------------------------------
    def attempt_started(self, task: str, attempt: int, limit: float | None) -> None:
        with self._lock:
            self.running[(task, attempt)] = Running(task, attempt, limit, state="building image")

    def set_state(self, task: str, attempt: int, state: str) -> None:
        with self._lock:
            running = self.running.get((task, attempt))
            if running is not None:
                running.state = state
                if state == "agent":
                    running.started = time.monotonic()  # the limit counts from here

    def on_event(self, task: str, attempt: int, event: Event) -> None:
        with self._lock:
            running = self.running.get((task, attempt))
            if running is None:
                return
            if isinstance(event, ModelCalled):
                running.tokens += (event.input_tokens or 0) + (event.output_tokens or 0)
            elif isinstance(event, ToolStarted):
                running.step = event.step
                running.state = f"agent: {event.tool}"

    def attempt_done(self, result: AttemptResult) -> None:
        with self._lock:
            self.running.pop((result.task, result.attempt), None)
            self.done.append(result)
            line = self._line(result)
        if self._live is not None:
            self._live.console.print(line)
        else:
            self.console.print(line)

    def attempt_dropped(self, task: str, attempt: int) -> None:
        with self._lock:
            self.running.pop((task, attempt), None)

    def message(self, text: str) -> None:
        (self._live.console if self._live is not None else self.console).print(text)

    # -- drawing -------------------------------------------------------------------
    def __enter__(self) -> "Progress":
        if self.live_enabled:
            self._live = Live(get_renderable=self.render, console=self.console, refresh_per_second=4, transient=True)
            self._live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        self.console.print(self.totals())

    def _line(self, r: AttemptResult) -> Text:
        if r.error and not r.passed:
            mark, style = "ERROR", "yellow"
        else:
            mark, style = ("PASS", "green") if r.passed else ("FAIL", "red")
        reward = "" if r.reward is None else f" reward {r.reward:g}"
        tail = f" · {r.error}" if r.error else ""
        return Text.assemble((f"{mark:5}", style), f" {r.task} #{r.attempt}{reward} · {r.steps} steps · "
                             f"{r.tokens} tokens · {r.seconds:.1f} s{tail}")

    def totals(self) -> Text:
        with self._lock:
            finished = len(self.done)
            passed = sum(r.passed for r in self.done)
            errors = sum(r.error is not None and not r.passed for r in self.done)
            tokens = sum(r.tokens for r in self.done) + sum(r.tokens for r in self.running.values())
            elapsed = time.monotonic() - self.started
            remaining = self.total - self.skipped - finished
            left = ""
            if finished and remaining > 0:
                per_attempt = elapsed / finished  # wall time per attempt at this parallelism
                left = f" · about {_clock(per_attempt * remaining)} left"
            skipped = f" · {self.skipped} done before" if self.skipped else ""
            return Text(f"{finished + self.skipped}/{self.total} attempts · {passed} passed · "
                        f"{finished - passed - errors} failed · {errors} errors{skipped} · {tokens} tokens · "
                        f"{_clock(elapsed)} elapsed{left}")

    def render(self) -> Group:
        with self._lock:
            table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
            for column in ("task", "attempt", "state", "step", "tokens", "time left"):
                table.add_column(column)
            now = time.monotonic()
            for running in sorted(self.running.values(), key=lambda r: r.started):
                used = now - running.started
                left = _clock(max(0.0, running.limit - used)) if running.limit and running.state.startswith("agent") else ""
                table.add_row(running.task, str(running.attempt), running.state, str(running.step or ""),
                              str(running.tokens or ""), left)
            return Group(table, self.totals())


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
