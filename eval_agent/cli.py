"""The command line: thin. It parses, builds a Session or calls a module, and maps errors to one
line and an exit code: 0 done, 1 stopped by a limit, 2 usage error, 3 environment error,
130 interrupted."""

from __future__ import annotations

import errno
import gc
import signal
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from typer.exceptions import Abort as TyperAbort
from typer.exceptions import TyperException
from rich.text import Text

from . import __version__
from .errors import EvalAgentError, UsageError
from .ui.terminal import console as terminal_console

app = typer.Typer(
    help="eval-agent: a coding agent that works in a Docker sandbox and records every run as training data. "
         "With no command it opens the REPL in the current folder (or --workspace).",
    add_completion=False, pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Build the sandbox image; list and remove eval-agent's containers.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

err = terminal_console(stderr=True)

ModelOpt = typer.Option(None, "--model", "-m", help="PROVIDER:NAME, e.g. openai:gpt-4o-mini; scripted:FILE replays actions. Default: EVAL_AGENT_MODEL or the config file.")
BaseUrlOpt = typer.Option(None, "--base-url", help="An OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, LM Studio); default OPENAI_BASE_URL.")
WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="The folder the agent works in (mounted at /workspace). Default: the current folder.")
NetworkOpt = typer.Option(None, "--network", help="bridge (default) or none: cut the sandbox off the network.")
ToolModeOpt = typer.Option(None, "--tool-mode", help="native, text, json (answers constrained to a JSON action schema) or auto: json for local models, else native falling back to text when the server rejects tools.")
PromptsOpt = typer.Option(None, "--prompts", help="A folder with your own copies of the prompt templates.")
SandboxOpt = typer.Option(None, "--sandbox", help="docker (default) or local: no isolation, for machines without Docker.")
ReviewOpt = typer.Option(None, "--review", help="on: before the agent may finish, a reviewer weighs the request against the evidence (commands, exit codes, diff) and can send it back to work. Default off.")
ReviewerModelOpt = typer.Option(None, "--reviewer-model", help="The reviewer's PROVIDER:NAME (default: the working model).")
MaxReviewsOpt = typer.Option(None, "--max-reviews", help="Review turns per request (default 2); after that, finish is taken at its word.")
MakeToolsOpt = typer.Option(None, "--make-tools/--no-make-tools", help="Offer make_tool: the agent builds tools for itself, kept in .eval-agent/tools/ for later runs in this folder (kept tools are offered either way).")

DockerHostOpt = typer.Option(None, "--docker-host", help="The Docker engine the sandbox runs on (unix:///PATH, tcp://HOST:PORT, ssh://USER@HOST); default DOCKER_HOST, else the local socket. The engine must see the workspace at the same path (a shared folder); services' URLs name its host.")


def _flags(**values) -> dict:
    return {name: value for name, value in values.items() if value is not None}


ApproveOpt = typer.Option(None, "--approve", help="auto (default) runs every action; confirm shows each first: Enter runs it, typed text rejects it, Ctrl-E edits it.")


@app.callback(invoke_without_command=True)
def _default(
    ctx: typer.Context, workspace: Optional[Path] = WorkspaceOpt, model: Optional[str] = ModelOpt,
    base_url: Optional[str] = BaseUrlOpt, network: Optional[str] = NetworkOpt, prompts: Optional[Path] = PromptsOpt,
    tool_mode: Optional[str] = ToolModeOpt, sandbox: Optional[str] = SandboxOpt, approve: Optional[str] = ApproveOpt,
    review: Optional[str] = ReviewOpt, reviewer_model: Optional[str] = ReviewerModelOpt,
    max_reviews: Optional[int] = MaxReviewsOpt, make_tools: Optional[bool] = MakeToolsOpt,
    docker_host: Optional[str] = DockerHostOpt,
) -> None:
    """With no command, opens the REPL in the current folder (or --workspace)."""
    given = _flags(workspace=workspace, model=model, base_url=base_url, network=network, prompts=prompts,
                   tool_mode=tool_mode, sandbox=sandbox, approve=approve, review=review,
                   reviewer_model=reviewer_model, max_reviews=max_reviews, make_tools=make_tools,
                   docker_host=docker_host)
    if ctx.invoked_subcommand is None:
        _open_repl(**given)
    elif given:
        raise UsageError(f"options go after the command: eval-agent {ctx.invoked_subcommand} --{next(iter(given)).replace('_', '-')} ...")


@app.command()
def repl(
    workspace: Optional[Path] = WorkspaceOpt, model: Optional[str] = ModelOpt, base_url: Optional[str] = BaseUrlOpt,
    network: Optional[str] = NetworkOpt, prompts: Optional[Path] = PromptsOpt, tool_mode: Optional[str] = ToolModeOpt,
    sandbox: Optional[str] = SandboxOpt, approve: Optional[str] = ApproveOpt, review: Optional[str] = ReviewOpt,
    reviewer_model: Optional[str] = ReviewerModelOpt, max_reviews: Optional[int] = MaxReviewsOpt,
    make_tools: Optional[bool] = MakeToolsOpt, docker_host: Optional[str] = DockerHostOpt,
) -> None:
    """Open the REPL: type requests, follow up in the same sandbox and conversation; /help inside."""
    _open_repl(**_flags(workspace=workspace, model=model, base_url=base_url, network=network, prompts=prompts,
                        tool_mode=tool_mode, sandbox=sandbox, approve=approve, review=review,
                        reviewer_model=reviewer_model, max_reviews=max_reviews, make_tools=make_tools,
                        docker_host=docker_host))


def _open_repl(workspace: Optional[Path] = None, approve: Optional[str] = None, docker_host: Optional[str] = None,
               **flags) -> None:
    from .config import load_settings
    from .sandbox.engine import use_docker_host
    from .ui.repl import Repl

    use_docker_host(docker_host)

    if approve not in (None, "auto", "confirm"):
        raise UsageError(f"--approve {approve}: use auto or confirm")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the REPL needs a terminal; in scripts use: eval-agent run REQUEST")
    settings = load_settings(flags)
    raise typer.Exit(Repl(settings, workspace or Path.cwd(), approval=approve or "auto").run())


@app.command()
def run(
    request: str = typer.Argument(..., help="What the agent should do."),
    workspace: Optional[Path] = WorkspaceOpt,
    model: Optional[str] = ModelOpt,
    base_url: Optional[str] = BaseUrlOpt,
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after this many tool calls (default 50)."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Stop once the model calls cost this many USD."),
    max_seconds: Optional[float] = typer.Option(None, "--max-seconds", help="Stop after this much wall time."),
    network: Optional[str] = NetworkOpt,
    tool_mode: Optional[str] = ToolModeOpt,
    prompts: Optional[Path] = PromptsOpt,
    sandbox: Optional[str] = SandboxOpt,
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object per event on stdout, nothing else."),
    keep_running: bool = typer.Option(False, "--keep-running", help="When the run leaves services running, keep the sandbox up until Ctrl-C."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue the conversation of a recorded run: its id, a unique prefix of it, or last."),
    review: Optional[str] = ReviewOpt, reviewer_model: Optional[str] = ReviewerModelOpt,
    max_reviews: Optional[int] = MaxReviewsOpt, make_tools: Optional[bool] = MakeToolsOpt,
    command_timeout: Optional[float] = typer.Option(None, "--command-timeout", help="Seconds a command may run when the model names no timeout (default 120); the prompt states the same number."),
    docker_host: Optional[str] = DockerHostOpt,
) -> None:
    """Run one request to the end: plan, act in the sandbox, finish.

    Exit codes: 0 finished, 1 stopped by a limit, 2 usage error, 3 environment error (Docker,
    model endpoint), 130 interrupted."""
    from .config import load_settings
    from .sandbox.engine import use_docker_host
    from .session import Session
    from .trajectory.redact import Redactor
    from .ui.jsonl import JsonLines
    from .ui.render import ConsoleRenderer

    if not request.strip():
        raise UsageError("the request is empty: say what the agent should do")
    use_docker_host(docker_host)
    settings = load_settings(_flags(model=model, base_url=base_url, max_steps=max_steps, max_cost=max_cost,
                                    max_seconds=max_seconds, network=network, tool_mode=tool_mode,
                                    prompts=prompts, sandbox=sandbox, review=review, reviewer_model=reviewer_model,
                                    max_reviews=max_reviews, make_tools=make_tools, command_timeout=command_timeout))
    if json_output:
        redactor = Redactor()
        sink, on_text = JsonLines(), None
        emit = lambda event: sink(_Redacted(event, redactor))  # noqa: E731
    else:
        renderer = ConsoleRenderer()
        emit, on_text = renderer, renderer.on_text
    if resume is not None:  # read before the sandbox starts: a bad id is one line, at once
        from .config import home
        from .trajectory.reader import resume_messages

        resumed, messages = resume_messages(home(), resume)
    with Session(settings, workspace or Path.cwd(), emit=emit, on_text=on_text) as session:
        if resume is not None:
            session.resume_from(messages, resumed.run_id)
        result = session.run(request)
        if keep_running and result.services and result.outcome.status == "finished":
            _serve_until_interrupted(result.services)
    raise typer.Exit(result.exit_code)


def _serve_until_interrupted(urls: list[str]) -> None:
    err.print(f"keeping the sandbox up for {', '.join(urls)}; press Ctrl-C to stop it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        err.print("stopping the sandbox")


class _Redacted:
    """An event whose dict form passes through the redactor (for --json on stdout)."""

    def __init__(self, event, redactor):
        self.event, self.redactor = event, redactor

    def to_dict(self) -> dict:
        return self.redactor.data(self.event.to_dict())


@sandbox_app.command("build")
def sandbox_build(
    rebuild: bool = typer.Option(False, "--rebuild", help="Build even when the image is up to date."),
    base: Optional[str] = typer.Option(None, "--base", help="Base image to build on (default: debian:bookworm-slim, else an offline debootstrap base)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the whole build log."),
) -> None:
    """Build the sandbox image eval-agent-sandbox:VERSION (returns at once when it is up to date)."""
    from .sandbox.image import ensure_image, image_tag

    image_id = ensure_image(rebuild=rebuild, base=base, verbose=verbose, log=lambda line: err.print(line))
    print(f"{image_tag()} {image_id[7:19] if image_id.startswith('sha256:') else image_id}")


@sandbox_app.command("ls")
def sandbox_ls() -> None:
    """List eval-agent's containers (label eval-agent=1), running or left by a crashed run."""
    from rich.table import Table

    from .sandbox.image import list_containers

    containers = list_containers()
    if not containers:
        print("no eval-agent containers")
        return
    table = Table("name", "status", "image", "created", "workspace")
    for container in containers:
        table.add_row(container["name"], container["status"], container["image"], str(container["created"]),
                      container.get("workspace") or "")
    terminal_console().print(table)


@sandbox_app.command("prune")
def sandbox_prune(
    everything: bool = typer.Option(False, "--all", help="Also remove the containers of eval-agent processes still running (their runs then fail), and those with no owner recorded (made by an older eval-agent)."),
) -> None:
    """Remove the containers that killed or crashed eval-agent processes left behind; those of
    processes still running, or with no owner recorded, are kept (--all removes them too)."""
    from .sandbox.image import prune_containers

    pruned = prune_containers(everything=everything)
    removed = pruned.removed
    print(f"removed {len(removed)} container{'s' if len(removed) != 1 else ''}" + (": " + ", ".join(removed) if removed else ""))
    if pruned.skipped:
        owners = sorted({owner for _, owner in pruned.skipped})
        print(f"kept {len(pruned.skipped)} whose eval-agent process is running or unknown ({', '.join(owners)}): "
              "`eval-agent sandbox prune --all` removes them too")


@app.command()
def doctor(
    model: Optional[str] = ModelOpt,
    base_url: Optional[str] = BaseUrlOpt,
) -> None:
    """Check the Docker engine, the sandbox image, the model endpoint and the data folder."""
    from .config import load_settings
    from .doctor import run_checks

    settings = load_settings(_flags(model=model, base_url=base_url))
    failures = 0
    for check in run_checks(settings):
        mark = "[green]ok[/green]  " if check.ok else "[red]FAIL[/red]"
        terminal_console().print(Text.from_markup(mark) + Text(f" {check.name}: {check.detail}"))
        failures += not check.ok
    raise typer.Exit(1 if failures else 0)


@app.command()
def version() -> None:
    """Print eval-agent's version."""
    print(__version__)


def register_feature_commands(app: typer.Typer) -> None:
    """Each feature module registers its own commands; one line each here."""
    __import__("eval_agent.bench.commands", fromlist=["register"]).register(app)
    __import__("eval_agent.trajectory.commands", fromlist=["register"]).register(app)
    __import__("eval_agent.models.commands", fromlist=["register"]).register(app)
    __import__("eval_agent.gym.commands", fromlist=["register"]).register(app)
    __import__("eval_agent.train.commands", fromlist=["register"]).register(app)
    __import__("eval_agent.plugin_commands", fromlist=["register"]).register(app)


register_feature_commands(app)


def _terminate(signum, frame) -> None:
    # SIGTERM unwinds like an exception, so the sandbox container is removed and the record closed
    raise SystemExit(143)


def main() -> None:
    try:
        _main()
    finally:
        # What is left is freed with the process: the collector's last pass over every imported
        # module's objects at exit took ~100 ms of each command (see benchmarks/startup.py)
        gc.freeze()


def _main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    # a shell starts background jobs with SIGINT ignored; a script that later sends SIGINT to
    # `eval-agent ... &` still means "stop", so Ctrl-C semantics hold there too
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = app(standalone_mode=False)
    except EvalAgentError as exc:
        err.print(Text.assemble(("eval-agent: ", "red"), str(exc)), soft_wrap=True)
        sys.exit(exc.exit_code)
    except TyperException as exc:  # bad flags: the usage message, exit code 2
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, TyperAbort):
        err.print("interrupted")
        sys.exit(130)
    except OSError as exc:  # a full disk anywhere we write (history, exports, models): one line
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        err.print(Text.assemble(("eval-agent: ", "red"), f"{exc.strerror}: {exc.filename or 'a file eval-agent writes'}; "
                                "free some space and run again"), soft_wrap=True)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
