"""Confirm mode: each action is shown before it runs. Enter runs it; typed text rejects it and is
sent to the model as the user's comment; Ctrl-E opens the command (or the arguments, as JSON) for
editing and runs the edited version. Ctrl-C stops the run, as anywhere else."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Callable

from prompt_toolkit import PromptSession
from prompt_toolkit.key_binding import KeyBindings
from rich.console import Console
from rich.syntax import Syntax
from rich.text import Text

from ..loop.agent import Approval
from ..models.base import ToolCall
from .render import cut_lines

EDIT = object()  # what the question returns when the user pressed the edit key
CONTENT_LINES_SHOWN = 40
QUESTION = "Enter runs it · type a reason to reject it · Ctrl-E edits it"


class ConfirmApprover:
    def __init__(self, console: Console, pause: Callable[[], None] | None = None,
                 resume: Callable[[], None] | None = None, on_interrupt: Callable[[], None] | None = None):
        self.console = console
        self.pause, self.resume = pause, resume  # the renderer's live region gives up the terminal
        self.on_interrupt = on_interrupt  # the REPL counts Ctrl-C presses (twice within 2 s exits)
        bindings = KeyBindings()

        @bindings.add("c-e")
        def _edit(event) -> None:
            event.app.exit(result=EDIT)

        self._question = PromptSession(key_bindings=bindings)
        self._editor = PromptSession()

    def __call__(self, call: ToolCall) -> Approval:
        if self.pause:
            self.pause()
        try:
            self._show(call)
            return self._decide(call)
        except (KeyboardInterrupt, EOFError):
            if self.on_interrupt:
                self.on_interrupt()
            raise KeyboardInterrupt from None
        finally:
            if self.resume:
                self.resume()

    def _show(self, call: ToolCall) -> None:
        """What the renderer's step line does not show already: the content to be written."""
        if call.name == "write_file":
            path = str(call.arguments.get("path", ""))
            content = cut_lines(str(call.arguments.get("content", "")), CONTENT_LINES_SHOWN)
            lexer = Syntax.guess_lexer(path, content) if PurePosixPath(path).suffix else "text"
            self.console.print(Syntax(content, lexer, theme="ansi_dark", word_wrap=True))

    def _decide(self, call: ToolCall) -> Approval:
        while True:
            self.console.print(Text(QUESTION, style="yellow"))
            answer = self._question.prompt([("class:prompt", "approve? › ")])
            if answer is EDIT:
                arguments = self._edit(call)
                if arguments is None:
                    continue  # not valid: ask again
                if arguments == call.arguments:
                    return Approval(decision="approved")
                return Approval(decision="edited", arguments=arguments)
            comment = answer.strip()
            if not comment:
                return Approval(decision="approved")
            self.console.print(Text("rejected; the model reads your comment", style="yellow"))
            return Approval(decision="rejected", comment=comment)

    def _edit(self, call: ToolCall) -> dict | None:
        self.console.print(Text("edit, then Esc Enter runs it (Ctrl-C stops the run)", style="dim"))
        if call.name == "bash":
            command = self._editor.prompt("edit › ", default=str(call.arguments.get("command", "")), multiline=True)
            return {**call.arguments, "command": command}
        text = self._editor.prompt("edit › ", default=json.dumps(call.arguments, indent=2, ensure_ascii=False),
                                   multiline=True)
        try:
            arguments = json.loads(text)
        except ValueError as exc:
            self.console.print(Text(f"not valid JSON ({exc}); nothing changed", style="red"))
            return None
        if not isinstance(arguments, dict):
            self.console.print(Text("the arguments must be a JSON object; nothing changed", style="red"))
            return None
        return arguments
