"""The REPL's view of a run: the ConsoleRenderer's steps and summary, plus a live region at the
bottom of the terminal holding the plan checklist (ticked as the model reports items done) and
the model's text as it streams in. Steps print above the region; when the answer is complete its
text moves up with them."""

from __future__ import annotations

import time

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from ..events import Event, ModelCalled, PlanUpdated, RunFinished, RunStarted, ToolStarted
from ..loop.plan import CHECKLIST_ITEM
from .render import ConsoleRenderer, cut_lines, plan_text
from .terminal import console as terminal_console

STREAM_TAIL_LINES = 6  # of the answer being streamed, shown in the live region
REFRESH_SECONDS = 0.05  # at most this often while text streams in
EDIT_LINES_SHOWN = 6


class ReplRenderer(ConsoleRenderer):
    def __init__(self, console: Console | None = None):
        super().__init__(console or terminal_console(), stream_text=True)
        self.plan: list[dict] = []
        self._stream = ""
        self._streamed = False  # this model call sent text through on_text
        self._live: Live | None = None
        self._last_refresh = 0.0

    # -- the live region -----------------------------------------------------------
    def _region(self) -> Group:
        parts = []
        if self._stream.strip():
            tail = self._stream.rstrip("\n").splitlines()[-STREAM_TAIL_LINES:]
            parts.append(Text("\n".join(tail), style="dim italic", overflow="ellipsis", no_wrap=True))
        if self.plan:
            done = sum(item["done"] for item in self.plan)
            parts.append(Panel(plan_text(self.plan), title=f"plan {done}/{len(self.plan)}", title_align="left",
                               border_style="blue"))
        return Group(*parts)

    def start_live(self) -> None:
        if self._live is None and self.console.is_terminal:
            self._live = Live(get_renderable=self._region, console=self.console, auto_refresh=False,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start(refresh=True)

    def stop_live(self, keep: bool = True) -> None:
        """Ends the live region; `keep` leaves its last view (the plan) on the screen."""
        if self._live is not None:
            live, self._live = self._live, None
            live.transient = not keep
            live.stop()

    def pause(self) -> None:
        """Clears the region while a prompt (an approval) has the terminal."""
        self.stop_live(keep=False)

    def resume(self) -> None:
        self.start_live()

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._live is not None and (force or now - self._last_refresh >= REFRESH_SECONDS):
            self._last_refresh = now
            self._live.refresh()

    # -- streamed text -------------------------------------------------------------
    def on_text(self, chunk: str) -> None:
        chunk = self.visible(chunk)
        if not chunk:
            return
        self._streamed = True
        if self._live is None:  # no terminal: plain streaming
            self.console.print(Text(chunk, style="dim italic"), end="")
            self._stream += chunk
            return
        self._stream += chunk
        self._refresh()

    def _commit_stream(self, text: str | None = None) -> None:
        """Prints a finished answer's text above the region, without the checklist lines that the
        plan panel shows anyway."""
        text = self._stream if text is None else text
        if self._live is None and self._streamed:
            if self._stream and not self._stream.endswith("\n"):
                self.console.print()
        else:
            kept = [line for line in text.splitlines() if not CHECKLIST_ITEM.match(line)]
            shown = cut_lines("\n".join(kept).strip(), 12)
            if shown:
                self.console.print(Text(shown, style="dim italic"))
        self._stream = ""

    # -- events --------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        self._thought = None  # any event ends the answer that was streaming
        if event.type == "model_called":
            content = None if self._streamed else (event.answer.get("content") or "")
            self._commit_stream(content)
            self._streamed = False
        elif self._stream:
            self._commit_stream()
        handler = getattr(self, f"_on_{event.type}", None)
        if handler:
            handler(event)
        self._refresh(force=True)

    def _on_run_started(self, event: RunStarted) -> None:
        self._json_answers = event.tool_mode == "json"
        self.plan = []  # the REPL's banner already said which model, sandbox and folder
        self.start_live()

    def _on_model_called(self, event: ModelCalled) -> None:
        pass  # its text was committed above

    def _on_plan_updated(self, event: PlanUpdated) -> None:
        self.plan = event.items
        if self._live is None:
            super()._on_plan_updated(event)

    def _on_tool_started(self, event: ToolStarted) -> None:
        super()._on_tool_started(event)
        args = event.arguments
        if event.tool == "write_file":
            lines = len(str(args.get("content", "")).splitlines())
            self.console.print(Text(f"  {lines} line{'s' if lines != 1 else ''}", style="dim"))
        elif event.tool == "edit_file":
            edit = Text()
            for sign, key, style in (("-", "old", "red"), ("+", "new", "green")):
                for line in cut_lines(str(args.get(key, "")), EDIT_LINES_SHOWN).splitlines():
                    edit.append(f"  {sign} {line}\n", style=style)
            edit.rstrip()
            self.console.print(edit)

    def _on_run_finished(self, event: RunFinished) -> None:
        self.stop_live(keep=True)
        super()._on_run_finished(event)
