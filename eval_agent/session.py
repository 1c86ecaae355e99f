"""A Session puts the parts together: settings -> model, sandbox, workspace, recorder, agent.
One session is one sandbox and one conversation; each request in it is a run with its own record."""

from __future__ import annotations

import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import __version__, repo_guard
from .config import Settings, home
from .errors import EvalAgentError, UsageError
from .events import Event, Notice, RunFinished, RunStarted
from .git_runner import HostGit
from .loop.state import Limits, Outcome
from .models.registry import load_model
from .repo_layout import locate
from .sandbox.base import Sandbox
from .sandbox.services import running_services
from .tools.built import MakeToolTool, workspace_tools
from .tools.registry import default_tools, tool_schemas
from .workspace import Workspace

if TYPE_CHECKING:  # imported in start(), while the containers start: ~60 ms off every run's start-up
    from .loop.agent import Agent
    from .loop.review import Reviewer
    from .trajectory.recorder import Recorder

DEFAULT_OPENAI_MODEL = "openai:gpt-4o-mini"


@dataclass
class RunResult:
    run_id: str
    outcome: Outcome
    record: Path
    services: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"finished": 0, "interrupted": 130, "error": 3}.get(self.outcome.status, 1)


def new_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def choose_model_spec(settings: Settings) -> str:
    if settings.model:
        return settings.model
    if os.environ.get("OPENAI_API_KEY") or settings.base_url or os.environ.get("OPENAI_BASE_URL"):
        return DEFAULT_OPENAI_MODEL
    return "local"  # the embedded model: offline, no key


class Session:
    def __init__(self, settings: Settings, workspace: Path | None, emit: Callable[[Event], None] | None = None,
                 on_text: Callable[[str], None] | None = None, sandbox: Sandbox | None = None,
                 approve: Callable | None = None, home_dir: Path | None = None):
        self.settings = settings
        self.workspace_path = workspace.resolve() if workspace else None
        self.emit_outside = emit or (lambda event: None)
        self.on_text = on_text
        self.sandbox = sandbox
        self.approve = approve  # Agent's approval hook (the REPL's confirm mode); None runs everything
        self.id = new_id()
        self.home = home_dir or home()  # a Ray worker records into a folder of its own
        self.workspace: Workspace | None = None
        self.recorder: Recorder | None = None
        self.agent: Agent | None = None
        self.resumed_from: str | None = None  # the recorded run whose conversation this one continues
        self._closing: list = []  # helpers to close with the session (the git box)
        self._image_ready = False
        self._image_lock = threading.Lock()  # the sandbox and the git box start side by side
        self._last_commit_problem = ""

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> "Session":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        settings = self.settings
        if self.workspace_path is not None and not self.workspace_path.is_dir():
            raise UsageError(f"workspace {self.workspace_path} is not a folder")
        # The two containers (the sandbox and the git box) start side by side, and meanwhile this
        # thread loads the loop and the model: a start costs the slowest of them, not their sum.
        # Each worker hands what it started to the session at once, so that close() removes it.
        with ThreadPoolExecutor(max_workers=2) as pool:
            starting = [pool.submit(self._start_sandbox)] if self.sandbox is None else []  # else it came started
            if self.workspace_path is not None:
                starting.append(pool.submit(self._open_workspace))
            from .loop.agent import Agent

            tool_mode = self._load_model()
        for future in starting:
            future.result()  # the first failure, as it was raised
        tools = self._tools()
        self.agent = Agent(
            self.model, self.sandbox, tools, self.prompts, emit=self._emit,
            limits=Limits(max_steps=settings.max_steps, max_cost=settings.max_cost, max_seconds=settings.max_seconds),
            tool_mode=tool_mode, on_text=self.on_text,
            system_variables=self._system_variables(),
            commit_step=self._commit_step if self.workspace else None,
            approve=self.approve, reviewer=self.make_reviewer(),
            diff=self._request_diff if self.workspace else None,
        )

    def _load_model(self) -> str:
        """The prompts and the model; returns the tool mode to run in."""
        from .loop.prompts import Prompts

        settings = self.settings
        self.prompts = Prompts(settings.prompts)
        spec = choose_model_spec(settings)
        if spec == "local" and not settings.model:
            from .models.local import LOCAL_DEFAULT_NOTICE

            self.emit_outside(Notice(message=LOCAL_DEFAULT_NOTICE))
        limits = {"max_tokens": settings.max_tokens} if settings.max_tokens else {}
        if settings.model_timeout:
            limits["timeout"] = settings.model_timeout
        self.model = load_model(spec, base_url=settings.base_url, temperature=settings.temperature, **limits,
                                log=lambda line: self.emit_outside(Notice(message=line)))
        # a model may prefer its own defaults: the embedded one wants json actions and compact prompts
        self.prompts.variant = getattr(self.model, "prompt_variant", None)
        tool_mode = settings.tool_mode
        if tool_mode == "auto":
            tool_mode = getattr(self.model, "default_tool_mode", "auto")
        if hasattr(self.model, "history_as_json"):  # the embedded model: its history in its own form
            self.model.history_as_json = tool_mode == "json"
        return tool_mode

    def _tools(self) -> list:
        """The built-in tools, make_tool when asked for, and the tools kept in the workspace."""
        tools = default_tools()
        if self.settings.make_tools:
            tools.insert(-1, MakeToolTool())  # finish stays last: small models read the list in order
        if self.workspace_path is not None:
            built, skipped = workspace_tools(self.sandbox)
            taken = {tool.name for tool in tools}
            skipped += [f"{tool.folder}: a tool named {tool.name} is already offered" for tool in built if tool.name in taken]
            for line in skipped:
                self.emit_outside(Notice(message=f"tool skipped: {line}", level="warning"))
            tools.extend(tool for tool in built if tool.name not in taken)
        return tools

    def make_reviewer(self, force: bool = False) -> Reviewer | None:
        """The reviewer the settings ask for (`force`: even when review is off)."""
        from .loop.review import Reviewer

        settings = self.settings
        if not force and (settings.review == "off" or settings.max_reviews == 0):
            return None
        model = self.model
        if settings.reviewer_model:
            model = load_model(settings.reviewer_model, base_url=settings.base_url, temperature=settings.temperature,
                               log=lambda line: self.emit_outside(Notice(message=line)))
        constrained = getattr(model, "default_tool_mode", None) == "json"
        return Reviewer(model, self.prompts, settings.max_reviews or 2, constrained=constrained)

    def _request_diff(self) -> str | None:
        try:
            return None if self.workspace.disabled else self.workspace.diff()
        except EvalAgentError:
            return None

    def _open_workspace(self) -> None:
        """The workspace under git, every git command in the git box (a container of its own that
        sees only the repository) unless the sandbox is local, where there is no boundary."""
        layout = locate(self.workspace_path)
        if self.settings.sandbox == "local":
            runner = HostGit()
        else:
            from .sandbox.docker_sandbox import sandbox_user
            from .sandbox.git_box import GitBox, box_mounts

            runner = GitBox(self._sandbox_image(), box_mounts(layout), sandbox_user(self.workspace_path), self.id)
            self._closing.append(runner)
            runner.start()
        self.workspace = Workspace(self.workspace_path, run_id=self.id, runner=runner, layout=layout)
        self.workspace.prepare()
        if self.workspace.disabled:
            self.emit_outside(Notice(message=self.workspace.disabled, level="warning"))

    def _sandbox_image(self) -> str:
        """eval-agent's own sandbox image, built once if it is missing or out of date."""
        from .sandbox.image import ensure_image, image_tag

        with self._image_lock:
            if not self._image_ready:
                ensure_image(log=lambda line: self.emit_outside(Notice(message=line)))
                self._image_ready = True
        return image_tag()

    def _start_sandbox(self) -> None:
        from .sandbox.factory import sandbox_settings, start_sandbox

        settings = self.settings
        image = settings.image or (self._sandbox_image() if settings.sandbox == "docker" else None)
        self.sandbox = start_sandbox(sandbox_settings(settings, workspace=self.workspace_path, image=image,
                                                      session_id=self.id),
                                     warn=lambda line: self.emit_outside(Notice(message=line, level="warning")))

    def _system_variables(self) -> dict:
        info = self.sandbox.info
        return {
            "workdir": info.workdir, "sandbox_kind": info.kind, "network": info.network,
            "ports": info.ports, "timeout": _whole(info.command_timeout),
            "has_workspace": self.workspace_path is not None,
            "user_note": "as an unprivileged user" if info.user not in (None, "0:0") else "as root without capabilities",
        }

    def close(self) -> None:
        # each close removes a container: side by side, they take the time of one
        parts = [part for part in [self.sandbox, *self._closing] if part is not None]
        self._closing = []
        with ThreadPoolExecutor(max_workers=max(len(parts), 1)) as pool:
            closing = [pool.submit(part.close) for part in parts]
        errors = [future.exception() for future in closing if future.exception() is not None]
        if self.recorder is not None:
            self.recorder.close()
        if errors:
            raise errors[0]

    # -- requests --------------------------------------------------------------------
    def record(self, event: Event) -> None:
        """Adds an event to the current run's record and to the outside sinks (e.g. the bench's
        verification result, the REPL's rating)."""
        self._emit(event)

    def resume_from(self, messages: list[dict], run_id: str | None = None) -> None:
        """Continues a recorded conversation (`run --resume`, /resume): the next request is a
        follow-up to these messages. The system prompt is rendered afresh for this sandbox."""
        agent = self.agent
        agent.reset()
        agent.messages = [dict(message) for message in messages]
        if agent.messages[:1] and agent.messages[0].get("role") == "system":
            agent.messages[0]["content"] = self.prompts.render("system", tool_mode=agent.tool_mode, **agent.system_variables)
        self.resumed_from = run_id

    def run(self, request: str, task: dict | None = None) -> RunResult:
        if not request.strip():
            raise UsageError("the request is empty: say what the agent should do")
        base_commit = self.workspace.begin_request() if self.workspace else None  # may refuse: no record then
        run_id = new_id()
        if self.recorder is not None:
            self.recorder.close()
        from .trajectory.recorder import Recorder

        self.recorder = Recorder(self.home, run_id, self.id)
        repo_before = repo_guard.snapshot(self.workspace_path) if self.workspace_path else None
        agent = self.agent
        self._emit(RunStarted(
            run_id=run_id, session_id=self.id, request=request, model=asdict(self.model.info),
            tool_mode=agent.tool_mode, tools=tool_schemas(agent.tools), prompts=self.prompts.record(),
            sandbox=_plain(self.sandbox.info), limits=asdict(agent.limits), version=__version__,
            workspace={"path": str(self.workspace_path or ""), "base_commit": base_commit},
            follow_up=bool(agent.messages), task=task, resumed_from=self.resumed_from,
        ))
        try:
            outcome = agent.run(request)
        except EvalAgentError as exc:  # the model endpoint, the sandbox, the disk: the record says which
            outcome = agent.outcome
            outcome.status, outcome.reason = "error", str(exc)
            self._check_repository(repo_before)
            self._finish(run_id, outcome, [])
            raise
        services = [m.url for m in running_services(self.sandbox)] if outcome.status != "interrupted" else []
        self._check_repository(repo_before)
        self._finish(run_id, outcome, services)
        return RunResult(run_id, outcome, self.recorder.path, services)

    def _commit_step(self, step: int, description: str) -> str | None:
        """The step's commit; a repository the agent left unusable for it (a merge half done, a
        .git replaced) costs that commit and a warning, never the run."""
        try:
            return self.workspace.commit_step(step, description)
        except EvalAgentError as exc:
            if str(exc) != self._last_commit_problem:  # said once, not after every step
                self._last_commit_problem = str(exc)
                self._emit(Notice(message=f"step {step} is not committed: {exc}", level="warning"))
            return None

    def _check_repository(self, before: repo_guard.RepoState | None) -> None:
        """Warns when the run changed the repository settings that the user's own git obeys."""
        if before is None:
            return
        found = repo_guard.changes(before, repo_guard.snapshot(self.workspace_path))
        if found:
            self._emit(Notice(message=repo_guard.warning(self.workspace_path, found), level="warning"))

    def _finish(self, run_id: str, outcome: Outcome, services: list[str]) -> None:
        self._emit(RunFinished(
            run_id=run_id, status=outcome.status, reason=outcome.reason, summary=outcome.summary,
            steps=outcome.steps, input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
            cost=outcome.cost, seconds=round(outcome.seconds, 3), services=services,
            record=str(self.recorder.path) if self.recorder else None,
        ))

    def _emit(self, event: Event) -> None:
        if self.recorder is not None:
            self.recorder(event)
        self.emit_outside(event)


def _whole(seconds: float) -> float:
    """30.0 as 30, for the prompt: the number the bash tool's timeout message shows."""
    return int(seconds) if float(seconds).is_integer() else seconds


def _plain(info) -> dict:
    data = asdict(info)
    data["ports"] = [{**asdict(port), "url": port.url} for port in info.ports]
    return data


__all__ = ["Session", "RunResult", "EvalAgentError"]
