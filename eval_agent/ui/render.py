"""The terminal view of a run: plan checklist, each step and its cut output, streamed model text,
the summary, running services and where the run was recorded."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from ..events import (Event, FormatErrorEvent, ModelCalled, Notice, PlanUpdated, Reviewed, RunFinished, RunStarted,
                      ToolFinished, ToolsChanged, ToolStarted)
from .terminal import console as terminal_console
from .thought_stream import ThoughtStream

OUTPUT_LINES_SHOWN = 12  # per step, head and tail; the model and the record get more
STATUS_STYLE = {"finished": "green", "limit": "yellow", "interrupted": "yellow", "error": "red"}


def plan_text(items: list[dict]) -> Text:
    text = Text()
    for item in items:
        text.append("  [x] " if item["done"] else "  [ ] ", style="green" if item["done"] else "dim")
        text.append(item["text"] + "\n", style="dim" if item["done"] else "")
    text.rstrip()
    return text


def cut_lines(text: str, keep: int = OUTPUT_LINES_SHOWN) -> str:
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= keep:
        return "\n".join(lines)
    half = keep // 2
    return "\n".join(lines[:half] + [f"... {len(lines) - keep} more lines ..."] + lines[-half:])


class ConsoleRenderer:
    def __init__(self, console: Console | None = None, stream_text: bool = True):
        self.console = console or terminal_console()
        self.stream_text = stream_text
        self._streaming = False
        self._json_answers = False  # --tool-mode json: show each answer's thought, not its JSON
        self._thought: ThoughtStream | None = None  # the answer streaming now, in json mode

    def visible(self, chunk: str) -> str:
        """What to show of a streamed chunk: in json mode only the answer's thought."""
        if not self._json_answers:
            return chunk
        if self._thought is None:
            self._thought = ThoughtStream()
        return self._thought.feed(chunk)

    # streamed model content arrives here, between events
    def on_text(self, chunk: str) -> None:
        chunk = self.visible(chunk) if self.stream_text else ""
        if chunk:
            self._streaming = True
            self.console.print(Text(chunk, style="dim italic"), end="")

    def _end_stream(self) -> None:
        if self._streaming:
            self.console.print()
            self._streaming = False

    def __call__(self, event: Event) -> None:
        self._end_stream()
        thought, self._thought = self._thought, None
        if event.type == "model_called" and self._json_answers and self.stream_text and (thought is None or thought.hidden):
            self._show_thought(event.answer.get("content") or "")  # nothing of it streamed: its thought now
        handler = getattr(self, f"_on_{event.type}", None)
        if handler:
            handler(event)

    def _show_thought(self, content: str) -> None:
        if content.strip():
            self.console.print(Text(cut_lines(content, 6), style="dim italic"))

    def _on_run_started(self, event: RunStarted) -> None:
        self._json_answers = event.tool_mode == "json"
        model = event.model
        where = event.workspace.get("path") or event.sandbox.get("workdir")
        self.console.print(Text.assemble(
            ("eval-agent ", "bold"), (f"{model['provider']}:{model['name']}", "cyan"),
            f" · {event.tool_mode} tools · {event.sandbox.get('kind')} sandbox · {where}"))

    def _on_plan_updated(self, event: PlanUpdated) -> None:
        self.console.print(Panel(plan_text(event.items), title="plan", title_align="left", border_style="blue"))

    def _on_model_called(self, event: ModelCalled) -> None:
        if not self.stream_text and event.answer.get("content") and event.purpose == "act":
            self.console.print(Text(cut_lines(event.answer["content"], 6), style="dim italic"))

    def _on_tool_started(self, event: ToolStarted) -> None:
        args = event.arguments
        header = Text.assemble((f"step {event.step} ", "bold"), (event.tool, "magenta"))
        if event.tool == "bash":
            self.console.print(header)
            from rich.syntax import Syntax  # here: pygments' lexer tables cost every start ~35 ms

            self.console.print(Syntax(str(args.get("command", "")), "bash", theme="ansi_dark", word_wrap=True))
        elif event.tool in ("write_file", "edit_file", "read_file"):
            self.console.print(header + Text(f" {args.get('path', '')}"))
        elif event.tool != "finish":
            self.console.print(header + Text(f" {escape(str(args))[:200]}"))

    def _on_tool_finished(self, event: ToolFinished) -> None:
        if event.tool == "finish":
            return
        shown = cut_lines(event.full_output if event.full_output is not None else event.observation)
        if shown.strip():
            self.console.print(Text(shown, style="dim"))
        status = []
        if event.exit_code not in (None, 0):
            status.append(f"exit {event.exit_code}")
        if event.timed_out:
            status.append("timed out")
        if status:
            self.console.print(Text(" · ".join(status), style="yellow"))

    def _on_reviewed(self, event: Reviewed) -> None:
        if event.accepted:
            self.console.print(Text.assemble(("review ", "bold"), ("accepted", "green"), f" ({event.model})"))
            return
        body = Text(event.findings or "the evidence does not show the request done")
        self.console.print(Panel(body, title=f"review: not done yet ({event.model})", title_align="left",
                                 border_style="yellow"))

    def _on_tools_changed(self, event: ToolsChanged) -> None:
        self.console.print(Text.assemble(("new tool ", "bold"), (event.added, "magenta"),
                                         " offered from the next step", style="dim"))

    def _on_format_error(self, event: FormatErrorEvent) -> None:
        self.console.print(Text(f"format error: {event.error}", style="yellow"))

    def _on_notice(self, event: Notice) -> None:
        style = {"warning": "yellow", "error": "red"}.get(event.level, "dim")
        self.console.print(Text(event.message, style=style))

    def _on_run_finished(self, event: RunFinished) -> None:
        style = STATUS_STYLE.get(event.status, "white")
        body = Text(event.summary or event.reason)
        self.console.print(Panel(body, title=event.status, title_align="left", border_style=style))
        for url in event.services:
            self.console.print(Text.assemble("service running: ", (url, "bold cyan")))
        cost = "unknown cost" if event.cost is None else f"${event.cost:.4f}"
        self.console.print(Text(
            f"{event.steps} steps · {event.input_tokens} in / {event.output_tokens} out tokens · {cost} · "
            f"{event.seconds:.1f} s", style="dim"))
        if event.record:
            self.console.print(Text(f"recorded: {event.record}", style="dim"))
