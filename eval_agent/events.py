"""Everything that happens in a run is an event. The terminal view, the `--json` output and the
trajectory file are three consumers of the same stream."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Event:
    type: str = field(init=False, default="event")
    time: float = field(init=False, default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class RunStarted(Event):
    run_id: str
    session_id: str
    request: str
    model: dict[str, Any]
    tool_mode: str
    tools: list[dict[str, Any]]
    prompts: dict[str, Any]
    sandbox: dict[str, Any]
    workspace: dict[str, Any]
    limits: dict[str, Any]
    version: str
    follow_up: bool = False
    task: dict[str, Any] | None = None  # bench runs: task id, attempt, tags
    resumed_from: str | None = None  # the run whose conversation this one continues (run --resume)
    type: str = field(init=False, default="run_started")


@dataclass
class ModelCalled(Event):
    """One model call: the messages added since the previous call, and the answer."""

    step: int
    purpose: str  # "plan" or "act"
    new_messages: list[dict[str, Any]]
    answer: dict[str, Any]  # the assistant message as appended: content, tool_calls
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None
    latency: float
    retries: int
    # the answer's text as the model wrote it, where the tool mode read an action out of it (the
    # json mode's object): what a model tuned for that mode must learn to write; None otherwise
    written: str | None = None
    type: str = field(init=False, default="model_called")


@dataclass
class PlanUpdated(Event):
    items: list[dict[str, Any]]  # {"text": ..., "done": bool}
    type: str = field(init=False, default="plan_updated")


@dataclass
class ToolStarted(Event):
    step: int
    tool: str
    arguments: dict[str, Any]
    call_id: str
    type: str = field(init=False, default="tool_started")


@dataclass
class ToolFinished(Event):
    step: int
    tool: str
    arguments: dict[str, Any]
    call_id: str
    observation: str  # exactly what the model saw
    ok: bool
    exit_code: int | None
    full_output: str | None
    duration: float
    timed_out: bool
    commit: str | None
    type: str = field(init=False, default="tool_finished")


@dataclass
class FormatErrorEvent(Event):
    step: int
    error: str
    type: str = field(init=False, default="format_error")


@dataclass
class UserDecision(Event):
    """The user's answer to an action shown for approval: run it, reject it (with a comment the
    model reads), or run an edited version."""

    step: int
    tool: str
    arguments: dict[str, Any]
    decision: str  # approved | rejected | edited
    comment: str = ""
    edited_arguments: dict[str, Any] | None = None
    type: str = field(init=False, default="user_decision")


@dataclass
class Reviewed(Event):
    """A review turn before `finish`: the reviewer's own conversation (its messages and answer,
    kept apart from the working model's), and its verdict. Exports leave it out of the working
    model's examples; `export --role reviewer` makes a dataset of these turns."""

    step: int  # the finish call it weighed
    model: str
    messages: list[dict[str, Any]]
    answer: dict[str, Any]
    accepted: bool
    findings: str
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None
    latency: float
    type: str = field(init=False, default="reviewed")


@dataclass
class ToolsChanged(Event):
    """The tool set offered to the model changed mid-run (a tool the agent built): the schemas
    in force from the next model call on."""

    step: int
    tools: list[dict[str, Any]]
    added: str
    type: str = field(init=False, default="tools_changed")


@dataclass
class Notice(Event):
    """Something the user should know: a limit warning, a fallback, a stuck warning."""

    message: str
    level: str = "info"
    type: str = field(init=False, default="notice")


@dataclass
class RunFinished(Event):
    run_id: str
    status: str  # finished | limit | error | interrupted
    reason: str
    summary: str
    steps: int
    input_tokens: int
    output_tokens: int
    cost: float | None
    seconds: float
    services: list[str]
    record: str | None = None
    type: str = field(init=False, default="run_finished")


@dataclass
class Verification(Event):
    """A run's verified outcome: the task's tests, run after the agent was done (the bench)."""

    command: str
    passed: bool
    reward: float | None
    output: str
    type: str = field(init=False, default="verification")


@dataclass
class Rated(Event):
    """The user's rating of a finished run (`traj rate`, the REPL's /good and /bad); appended to
    the run's record so that `traj reindex` keeps it."""

    run_id: str
    rating: str  # good | bad
    comment: str = ""
    type: str = field(init=False, default="rated")


class EventSink(Protocol):
    def __call__(self, event: Event) -> None: ...
