"""The REPL's slash commands. Each takes the REPL and the text after the command name; a
UsageError (or any EvalAgentError) from one is printed as one line by the REPL."""

from __future__ import annotations

import difflib
import importlib.util
import shlex
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..errors import UsageError
from .render import plan_text

if TYPE_CHECKING:
    from .repl import Repl


@dataclass
class SlashCommand:
    name: str
    usage: str
    help: str
    handler: Callable[["Repl", str], None]


COMMANDS: dict[str, SlashCommand] = {}
ALIASES = {"quit": "exit", "q": "exit"}


def command(name: str, usage: str, help: str):
    def register(handler):
        COMMANDS[name] = SlashCommand(name, usage, help, handler)
        return handler
    return register


def dispatch(repl: "Repl", line: str) -> None:
    name, _, rest = line.strip()[1:].partition(" ")
    name = ALIASES.get(name.lower(), name.lower())
    found = COMMANDS.get(name)
    if found is None:
        close = difflib.get_close_matches(name, list(COMMANDS) + list(ALIASES), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join('/' + c for c in close)}?" if close else "; /help lists them"
        raise UsageError(f"unknown command /{name}{hint}")
    found.handler(repl, rest.strip())


def _say(repl: "Repl", message: str, style: str = "") -> None:
    repl.console.print(Text(message, style=style), soft_wrap=True)


def _workspace(repl: "Repl"):
    if repl.session.workspace is None:
        raise UsageError("this session has no workspace folder")
    return repl.session.workspace


@command("help", "/help", "this list, and the keys")
def _help(repl: "Repl", rest: str) -> None:
    table = Table(show_header=False, box=None, padding=(0, 2))
    for entry in COMMANDS.values():
        table.add_row(Text(entry.usage, style="cyan"), entry.help)
    repl.console.print(table)
    _say(repl, "keys: Enter sends · Esc Enter (or Alt-Enter) adds a line; pasting several lines works · "
               "Ctrl-R searches history · Tab completes commands and file names · Ctrl-C stops the "
               "current step, twice within 2 s exits · Ctrl-D on an empty line exits", "dim")


@command("plan", "/plan", "the current plan and what is done")
def _plan(repl: "Repl", rest: str) -> None:
    plan = repl.session.agent.plan
    if not plan:
        _say(repl, "no plan yet: send a request")
        return
    repl.console.print(plan_text(plan))


@command("diff", "/diff [all]", "the changes of the last request (all: of the whole session)")
def _diff(repl: "Repl", rest: str) -> None:
    workspace = _workspace(repl)
    if rest not in ("", "all"):
        raise UsageError("usage: /diff [all]")
    since = repl.session_base if rest == "all" else None
    if since is None and workspace.base is None:
        _say(repl, "no changes yet: send a request")
        return
    diff = workspace.diff(since)
    if not diff.strip():
        _say(repl, "no changes")
        return
    repl.console.print(Syntax(diff, "diff", theme="ansi_dark", word_wrap=True))


@command("undo", "/undo [step]", "revert the last request's changes (step: only its last step)")
def _undo(repl: "Repl", rest: str) -> None:
    if rest not in ("", "step"):
        raise UsageError("usage: /undo [step]")
    workspace = _workspace(repl)
    requests = [commits for commits in repl.request_commits if commits]
    if not requests:
        raise UsageError("nothing to undo: eval-agent has changed no file in this session")
    commits = requests[-1]
    undone = []
    for _ in range(1 if rest == "step" else len(commits)):
        undone.append(workspace.undo())  # newest first; stops with one line if the user changed files since
        commits.pop()
    files = sorted({name for result in undone for name in result.files})
    steps = "; ".join(result.message for result in undone)
    shown = ", ".join(files) or "no files"
    _say(repl, f"undone {len(undone)} step{'s' if len(undone) != 1 else ''} of the last request:", "green")
    for result in undone:
        _say(repl, f"  {result.commit[:8]} {result.message}")
    _say(repl, f"files back as they were: {shown}")
    agent = repl.session.agent
    if agent.messages:  # so the model does not take the reverted files for granted
        agent.messages.append({"role": "user", "content": f"(Note: the user undid these steps: {steps}. "
                                                          f"These files are back as they were before: {shown}.)"})


@command("model", "/model [SPEC]", "show the model, or switch to PROVIDER:NAME")
def _model(repl: "Repl", rest: str) -> None:
    from ..models.registry import load_model

    session = repl.session
    if not rest:
        info = session.model.info
        _say(repl, f"{info.provider}:{info.name}" + (f" at {info.base_url}" if info.base_url else ""))
        return
    settings = session.settings
    model = load_model(rest, base_url=settings.base_url, temperature=settings.temperature,
                       log=lambda line: _say(repl, line, "dim"))
    session.model = session.agent.model = model
    settings.model = repl.tally.model = rest
    _say(repl, f"model: {rest} (the conversation goes on with it)", "green")
    preferred = getattr(model, "default_tool_mode", None)
    if preferred and settings.tool_mode == "auto" and preferred != session.agent.tool_mode:
        _say(repl, f"this session keeps the {session.agent.tool_mode} tool mode; {rest} prefers {preferred}: "
                   f"open a new REPL with --model {rest} for that", "yellow")


@command("approve", "/approve [auto|confirm]", "auto runs every action; confirm asks before each one")
def _approve(repl: "Repl", rest: str) -> None:
    if not rest:
        _say(repl, f"approval: {repl.tally.approval}")
        return
    if rest not in ("auto", "confirm"):
        raise UsageError("usage: /approve auto|confirm")
    repl.set_approval(rest)
    _say(repl, f"approval: {rest}", "green")


@command("tools", "/tools", "the tools the agent has now: built-in, plugins, and those kept in this workspace")
def _tools(repl: "Repl", rest: str) -> None:
    from ..tools.built import TOOLS_DIR, BuiltTool

    table = Table(show_header=True, box=None, padding=(0, 2))
    for column in ("tool", "kind", "description"):
        table.add_column(column)
    for tool in repl.session.agent.tools:
        function = tool.schema["function"]
        kind = "built-in"
        if isinstance(tool, BuiltTool):
            kind = "being tried" if tool.pending else f"{TOOLS_DIR}/{tool.name}"
        elif not type(tool).__module__.startswith("eval_agent."):
            kind = f"plugin ({type(tool).__module__.split('.')[0]})"
        table.add_row(Text(tool.name, style="magenta"), kind, function.get("description", "").split(". ")[0][:80])
    repl.console.print(table)
    if not any(isinstance(tool, BuiltTool) for tool in repl.session.agent.tools):
        _say(repl, f"no tools kept in this workspace yet: the agent builds them with make_tool "
                   f"(eval-agent --make-tools), or write one in {TOOLS_DIR}/NAME/ (tool.json and run)", "dim")


@command("review", "/review [on|off]", "a review turn before the agent may finish: show, or switch")
def _review(repl: "Repl", rest: str) -> None:
    from ..loop.review import Reviewer

    agent = repl.session.agent
    if rest not in ("", "on", "off"):
        raise UsageError("usage: /review [on|off]")
    if rest == "on" and agent.reviewer is None:
        agent.reviewer = repl.session.make_reviewer(force=True)
    elif rest == "off":
        agent.reviewer = None
    state = "on" if isinstance(agent.reviewer, Reviewer) else "off"
    extra = f" (up to {agent.reviewer.max_reviews} per request, {agent.reviewer.model.info.name})" if state == "on" else ""
    _say(repl, f"review {state}{extra}")


@command("cost", "/cost", "tokens, cost and time of this session")
def _cost(repl: "Repl", rest: str) -> None:
    tally = repl.tally
    _say(repl, f"{len(tally.runs)} request{'s' if len(tally.runs) != 1 else ''} · {tally.steps} steps · "
               f"{tally.input_tokens} in / {tally.output_tokens} out tokens · {tally.cost_text} · "
               f"{tally.seconds:.1f} s")


@command("trajectory", "/trajectory", "where this session is recorded, and the size")
def _trajectory(repl: "Repl", rest: str) -> None:
    records = [run.record for run in repl.tally.runs if run.record is not None]
    if not records:
        _say(repl, "nothing recorded yet: each request is recorded as it runs")
        return
    for record in records:
        size = record.stat().st_size if record.exists() else 0
        events = sum(1 for _ in record.open(encoding="utf-8")) - 1 if size else 0
        _say(repl, f"{record} · {size / 1024:.1f} KB · {events} events")


@command("export", "/export ARGS", "export trajectories as a dataset (eval-agent export ARGS)")
def _export(repl: "Repl", rest: str) -> None:
    if importlib.util.find_spec("eval_agent.trajectory.commands") is None:
        _say(repl, "export is not in this build yet (eval-agent export is being added)", "yellow")
        return
    try:
        arguments = shlex.split(rest)
    except ValueError as exc:
        raise UsageError(f"cannot read the arguments: {exc}") from None
    completed = subprocess.run([sys.executable, "-m", "eval_agent", "export", *arguments])
    if completed.returncode:
        _say(repl, f"export exited with code {completed.returncode}", "yellow")


def _rate(repl: "Repl", rating: str, comment: str) -> None:
    last = repl.tally.last_run
    if last is None:
        raise UsageError(f"nothing to rate yet: /{rating} rates the last request")
    try:
        from ..trajectory.store import rate_run
    except ImportError:
        _say(repl, "rating needs the trajectory store, which is not in this build yet", "yellow")
        return
    rate_run(repl.session.home, last.run_id, rating, comment)
    _say(repl, f"rated {last.run_id} {rating}" + (f": {comment}" if comment else ""), "green")


@command("good", "/good [COMMENT]", "rate the last request's run as good")
def _good(repl: "Repl", rest: str) -> None:
    _rate(repl, "good", rest)


@command("bad", "/bad [COMMENT]", "rate the last request's run as bad")
def _bad(repl: "Repl", rest: str) -> None:
    _rate(repl, "bad", rest)


@command("resume", "/resume RUN", "continue a recorded run's conversation (its id, a prefix, or last)")
def _resume(repl: "Repl", rest: str) -> None:
    if not rest:
        raise UsageError("usage: /resume RUN_ID (a unique prefix, or last)")
    try:
        from ..trajectory.reader import resume_messages
    except ImportError:
        _say(repl, "resuming needs the trajectory reader, which is not in this build yet", "yellow")
        return
    trajectory, messages = resume_messages(repl.session.home, rest)
    repl.session.resume_from(messages, trajectory.run_id)
    _say(repl, f"resumed {trajectory.run_id}: {len(messages)} messages; the next request continues it", "green")


@command("clear", "/clear", "start a new conversation (same sandbox, same files)")
def _clear(repl: "Repl", rest: str) -> None:
    repl.session.agent.reset()
    repl.session.resumed_from = None
    _say(repl, "new conversation; the sandbox and its running services stay", "green")


@command("exit", "/exit", "leave: the sandbox is removed, the record closed")
def _exit(repl: "Repl", rest: str) -> None:
    repl.request_exit()
