"""The REPL: type a request, watch the agent plan and work, follow up in the same sandbox and
conversation, steer it with slash commands. Ctrl-C stops the current step; twice within two
seconds leaves (the sandbox is removed and the record closed on every way out)."""

from __future__ import annotations

import signal
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings
from rich.console import Console
from rich.text import Text

from ..config import Settings, home
from ..errors import EvalAgentError
from ..events import Event, RunFinished
from ..repo_layout import entry_kind, list_dir
from ..session import Session
from . import slash
from .approval import ConfirmApprover
from .live_render import ReplRenderer
from .terminal import console as terminal_console
from .toolbar import SessionTally, toolbar_text

try:
    import termios
except ImportError:  # Windows: keys echo while the agent works
    termios = None

DOUBLE_PRESS_SECONDS = 2.0
HISTORY_FILE = "repl_history"


class InterruptTracker:
    """Counts Ctrl-C presses; a second one within DOUBLE_PRESS_SECONDS means: leave."""

    def __init__(self, window: float = DOUBLE_PRESS_SECONDS):
        self.window = window
        self.last = float("-inf")
        self.exit_requested = False

    def press(self) -> bool:
        now = time.monotonic()
        if now - self.last <= self.window:
            self.exit_requested = True
        self.last = now
        return self.exit_requested


class ReplCompleter(Completer):
    """Slash commands at the start of the line; file and folder names of the workspace in words
    (on Tab, or as you type once a word holds a / or a .)."""

    def __init__(self, root: Path | None):
        self.root = root

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text:
            for name, entry in slash.COMMANDS.items():
                if ("/" + name).startswith(text):
                    yield Completion("/" + name, start_position=-len(text), display_meta=entry.help)
            return
        word = document.get_word_before_cursor(WORD=True)
        if self.root is None or not word or not (complete_event.completion_requested or "/" in word or "." in word):
            return
        folder, _, prefix = word.rpartition("/")
        if folder.startswith("/") or ".." in folder.split("/"):
            return
        # the workspace is the sandbox's to write: names are read without following a link
        for name in list_dir(self.root, folder):
            if name == ".git" or not name.startswith(prefix):
                continue
            if name.startswith(".") and not prefix.startswith("."):
                continue
            shown = (folder + "/" if folder else "") + name
            is_dir = entry_kind(self.root, f"{folder}/{name}".strip("/")) == "dir"
            yield Completion(shown + ("/" if is_dir else ""), start_position=-len(word))


@contextmanager
def _no_echo() -> Iterator[None]:
    """While the agent works, keys are not echoed: a "^C" in the middle of the live region would
    shift it and leave stray lines. What is typed meanwhile still reaches the next prompt."""
    fd = sys.stdin.fileno() if termios is not None and sys.stdin.isatty() else None
    saved = termios.tcgetattr(fd) if fd is not None else None
    if saved is not None:
        quiet = list(saved)
        quiet[3] &= ~(termios.ECHO | termios.ECHOCTL)
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def _hang_up(signum, frame) -> None:
    raise SystemExit(129)


def _key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("escape", "enter")  # Esc then Enter, or Alt-Enter: a new line in the request
    def _newline(event) -> None:
        event.current_buffer.insert_text("\n")

    return bindings


class Repl:
    def __init__(self, settings: Settings, workspace: Path | None, approval: str = "auto",
                 console: Console | None = None):
        self.settings, self.workspace_path = settings, workspace
        self.console = console or terminal_console()
        self.renderer = ReplRenderer(self.console)
        self.interrupts = InterruptTracker()
        self.approver = ConfirmApprover(self.console, pause=self.renderer.pause, resume=self.renderer.resume,
                                        on_interrupt=self.interrupts.press)
        self.tally = SessionTally(model=settings.model or "", approval=approval)
        self.session: Session | None = None
        self.session_base: str | None = None  # the commit before the session's first request
        self.request_commits: list[list[str]] = []  # each request's step commits, for /undo
        self._exit = False
        self._run_finished = False

    # -- lifecycle -----------------------------------------------------------------
    def run(self) -> int:
        """Runs until /exit, Ctrl-D or a double Ctrl-C; returns the exit code."""
        self.console.print(Text("starting the sandbox ...", style="dim"))
        signal.signal(signal.SIGHUP, _hang_up)  # a closed terminal window cleans up like /exit
        session = Session(self.settings, self.workspace_path, emit=self._emit, on_text=self.renderer.on_text)
        try:
            with ExitStack() as closing:
                with _no_echo():  # what is typed while the sandbox starts shows at the prompt, not above it
                    closing.enter_context(session)
                self.session = session
                info = session.model.info
                self.tally.model = f"{info.provider}:{info.name}"
                self.set_approval(self.tally.approval)
                self._banner()
                code = self._loop()
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the sandbox be removed in peace
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.renderer.stop_live()
        self.console.print(Text("sandbox removed, record closed", style="dim"))
        return code

    def request_exit(self) -> None:
        self._exit = True

    def set_approval(self, mode: str) -> None:
        approve = self.approver if mode == "confirm" else None
        self.session.approve = self.session.agent.approve = approve
        self.tally.approval = mode

    def _banner(self) -> None:
        session = self.session
        where = session.workspace_path or session.sandbox.info.workdir
        self.console.print(Text.assemble(
            ("eval-agent ", "bold"), (self.tally.model, "cyan"),
            f" · {session.sandbox.info.kind} sandbox · {where} · approve: {self.tally.approval}"))
        self.console.print(Text("Type a request. /help lists commands; Esc Enter adds a line; Ctrl-D exits.",
                                style="dim"))

    def _prompt_session(self) -> PromptSession:
        history = home() / HISTORY_FILE
        history.parent.mkdir(parents=True, exist_ok=True)
        return PromptSession(
            history=FileHistory(str(history)), completer=ReplCompleter(self.workspace_path),
            complete_while_typing=True, auto_suggest=AutoSuggestFromHistory(), key_bindings=_key_bindings(),
            bottom_toolbar=lambda: toolbar_text(self.tally), prompt_continuation=lambda width, *_: "." * (width - 1) + " ",
        )

    # -- the loop ------------------------------------------------------------------
    def _loop(self) -> int:
        prompt = self._prompt_session()
        label = f"{self.workspace_path.name if self.workspace_path else 'eval-agent'} › "
        while not self._exit:
            try:
                line = prompt.prompt(label)
            except KeyboardInterrupt:
                if self.interrupts.press():
                    return 130
                self.console.print(Text("(Ctrl-C again within 2 s exits; Ctrl-D or /exit leaves)", style="dim"))
                continue
            except EOFError:
                return 0
            if not line.strip():
                continue
            if line.lstrip().startswith("/"):
                self._command(line)
            else:
                self._request(line)
            if self.interrupts.exit_requested:
                return 130
        return 0

    def _command(self, line: str) -> None:
        try:
            slash.dispatch(self, line)
        except EvalAgentError as exc:
            self._line(str(exc), "red")
        except KeyboardInterrupt:
            self.interrupts.press()
        except Exception as exc:  # noqa: BLE001 - one line, back to the prompt
            self._line(f"{line.split()[0]} failed: {type(exc).__name__}: {exc}", "red")

    def _line(self, message: str, style: str = "") -> None:
        """One line, never wrapped by rich (the terminal may still fold it on screen)."""
        self.console.print(Text(message, style=style), soft_wrap=True)

    def _on_sigint(self, signum, frame) -> None:
        self.interrupts.press()
        raise KeyboardInterrupt

    def _request(self, request: str) -> None:
        session, agent = self.session, self.session.agent
        outcome_before, recorder_before = getattr(agent, "outcome", None), session.recorder
        self._run_finished = False
        self.request_commits.append([])
        previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
        problem = None
        try:
            with _no_echo():
                result = session.run(request)
            if result.outcome.status != "interrupted":
                self.tally.services = result.services
        except KeyboardInterrupt:  # pressed outside the agent's loop: the run still ends properly
            problem = ("interrupted", "interrupted by the user")
        except EvalAgentError as exc:
            problem = ("error", str(exc))
        except Exception as exc:  # noqa: BLE001 - a crash in one request: one line, back to the prompt
            problem = ("error", f"{type(exc).__name__}: {exc}")
        finally:
            signal.signal(signal.SIGINT, previous_handler)
            self.renderer.stop_live()
        if session.recorder is recorder_before:
            if problem:
                self._line(f"the request did not start: {problem[1]}", "red")
            return
        if self.session_base is None and session.workspace is not None:
            self.session_base = session.workspace.base
        outcome = agent.outcome if getattr(agent, "outcome", None) is not outcome_before else None
        if problem is not None and not self._run_finished:  # else the outcome panel said it already
            if outcome is not None:
                self._record_end(outcome, *problem)
            self._line(f"the request stopped: {problem[1]}", "red" if problem[0] == "error" else "yellow")
        if outcome is not None:
            self.tally.add(session.recorder.run_id, request, outcome, session.recorder.path)

    def _record_end(self, outcome, status: str, reason: str) -> None:
        """A run that crashed still ends its record with an outcome (the screen has its one line)."""
        try:
            self.session.recorder(RunFinished(
                run_id=self.session.recorder.run_id, status=status, reason=reason, summary="", steps=outcome.steps,
                input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens, cost=outcome.cost,
                seconds=round(outcome.seconds, 3), services=[], record=str(self.session.recorder.path)))
        except Exception:  # noqa: BLE001 - the record is best effort here; the user has the line above
            pass

    def _emit(self, event: Event) -> None:
        if event.type == "run_finished":
            self._run_finished = True
        elif event.type == "tool_finished" and event.commit:
            self.request_commits[-1].append(event.commit)
        self.renderer(event)
