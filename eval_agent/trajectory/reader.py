"""Reading a trajectory file back: its events, the run's summary, and the conversation exactly as
it was sent to the model.

A file whose format has another major version is refused with one clear line. A file whose run
never wrote `run_finished` (killed, or still going) reads as incomplete; a last line cut by a
kill in the middle of a write is dropped, never an error."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .recorder import FORMAT
from .summary import RunSummary

FORMAT_NAME, _, FORMAT_VERSION = FORMAT.partition("/")
NOT_RUN = "Not run: the run was stopped before this call."  # the agent's answer to calls it never ran


class TrajectoryError(UsageError):
    """A file that is not a trajectory this version can read."""


@dataclass
class Step:
    number: int
    tool: str
    arguments: dict[str, Any]
    call_id: str
    observation: str
    ok: bool
    exit_code: int | None
    full_output: str | None
    duration: float
    commit: str | None
    rejected: bool = False  # the user rejected it; it never ran


@dataclass
class Trajectory:
    path: Path
    header: dict[str, Any]
    events: list[dict[str, Any]]
    summary: RunSummary
    cut_last_line: bool = False
    _steps: list[Step] | None = field(default=None, repr=False)

    @property
    def run_id(self) -> str:
        return self.summary.run_id

    @property
    def started(self) -> dict[str, Any]:
        return next((e for e in self.events if e.get("type") == "run_started"), {})

    @property
    def finished(self) -> dict[str, Any] | None:
        return next((e for e in reversed(self.events) if e.get("type") == "run_finished"), None)

    @property
    def complete(self) -> bool:
        return self.finished is not None

    @property
    def status(self) -> str:
        return self.summary.effective_status()

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The tools offered by the end of the run: those at its start, or the set after the
        last tool the agent built."""
        changed = next((e for e in reversed(self.events) if e.get("type") == "tools_changed"), None)
        return (changed or self.started).get("tools") or []

    def steps(self) -> list[Step]:
        if self._steps is None:
            rejected = {e["step"] for e in self.events if e.get("type") == "user_decision" and e.get("decision") == "rejected"}
            self._steps = [Step(number=e["step"], tool=e["tool"], arguments=e.get("arguments") or {},
                                call_id=e.get("call_id") or "", observation=e.get("observation", ""), ok=bool(e.get("ok")),
                                exit_code=e.get("exit_code"), full_output=e.get("full_output"),
                                duration=e.get("duration") or 0.0, commit=e.get("commit"), rejected=e["step"] in rejected)
                           for e in self.events if e.get("type") == "tool_finished"]
        return self._steps

    def conversation(self) -> "Conversation":
        return build_conversation(self.events)

    def context_tokens(self) -> int:
        """The length of the whole conversation in the model's own tokens: the last call's input
        plus its answer. Estimated (4 characters a token) where the server reported no usage."""
        calls = [e for e in self.events if e.get("type") == "model_called"]
        if calls and calls[-1].get("input_tokens") is not None:
            return int(calls[-1]["input_tokens"]) + int(calls[-1].get("output_tokens") or 0)
        return len(json.dumps(self.conversation().messages, ensure_ascii=False)) // 4


@dataclass
class Conversation:
    """The messages as the model saw them, each answer included; `failed[i]` is True for an
    assistant message at index i whose action failed (a tool error, or no usable action)."""

    messages: list[dict[str, Any]]
    failed: dict[int, bool]
    native_tools: bool  # tool calls went as native tool_calls (else as text in the content)


def build_conversation(events: list[dict[str, Any]]) -> Conversation:
    messages: list[dict[str, Any]] = []
    failed: dict[int, bool] = {}
    last_answer: int | None = None
    answered: set[str] = set()
    tail: list[dict[str, Any]] = []  # tool results after the last model call
    for event in events:
        kind = event.get("type")
        if kind == "model_called":
            new = event.get("new_messages") or []
            if new and new[0].get("role") == "system":  # a call that carried the whole conversation
                messages, failed = [], {}
            messages.extend(new)
            messages.append(event.get("answer") or {"role": "assistant", "content": ""})
            last_answer = len(messages) - 1
            failed[last_answer] = False
            answered, tail = set(), []
        elif kind == "format_error" and last_answer is not None:
            failed[last_answer] = True
        elif kind == "tool_finished" and last_answer is not None:
            if not event.get("ok"):
                failed[last_answer] = True
            call_id = event.get("call_id") or ""
            native = any(call.get("id") == call_id for call in messages[last_answer].get("tool_calls") or [])
            if native:
                answered.add(call_id)
                tail.append({"role": "tool", "content": event.get("observation", ""), "tool_call_id": call_id})
            else:
                tail.append({"role": "user", "content": event.get("observation", "")})
    messages.extend(tail)
    if last_answer is not None:  # every native call needs its answer, or the conversation cannot go on
        for call in messages[last_answer].get("tool_calls") or []:
            if call.get("id") not in answered:
                messages.append({"role": "tool", "content": NOT_RUN, "tool_call_id": call.get("id")})
    native = any(message.get("tool_calls") for message in messages)
    return Conversation(messages=messages, failed=failed, native_tools=native)


def _check_header(header: dict[str, Any], path: Path) -> None:
    name, _, version = str(header.get("format", "")).partition("/")
    if header.get("type") != "header" or name != FORMAT_NAME:
        raise TrajectoryError(f"{path} is not an eval-agent trajectory (its first line has no {FORMAT_NAME} format)")
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise TrajectoryError(f"{path} is recorded in {header.get('format')}, which this eval-agent cannot read "
                              f"(it reads {FORMAT}); use a newer eval-agent")


def read_trajectory(path: Path) -> Trajectory:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrajectoryError(f"no trajectory file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrajectoryError(f"cannot read {path}: {exc}") from None
    lines = text.split("\n")
    cut = bool(lines[-1])  # a complete file ends with a newline; text after the last one was cut
    if cut:
        lines = lines[:-1]
    events = _decode(lines, path)
    if not events:
        raise TrajectoryError(f"{path} is empty")
    _check_header(events[0], path)
    summary = RunSummary(run_id=events[0].get("run_id") or path.stem, path=str(path))
    for event in events:
        summary.apply(event)
    if summary.status == "running":  # not finished: running while its process lives, else incomplete
        summary.status = summary.effective_status()
    return Trajectory(path=path, header=events[0], events=events[1:], summary=summary, cut_last_line=cut)


def _decode(lines: list[str], path: Path) -> list[dict[str, Any]]:
    """The lines' events, decoded as one JSON array (a quarter faster than line by line, which
    counts when an export reads thousands of files); line by line only to name a damaged line."""
    filled = [line for line in lines if line]
    try:
        events = json.loads("[" + ",".join(filled) + "]")
    except json.JSONDecodeError:
        events = None
    if events is not None and len(events) == len(filled) and all(type(event) is dict for event in events):
        return events
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            event = None
        if type(event) is not dict:
            raise TrajectoryError(f"{path} line {number} is not a JSON object: the file is damaged")
    raise TrajectoryError(f"{path} is damaged")  # not reached: a line above was at fault


def read_summary(path: Path) -> RunSummary:
    return read_trajectory(path).summary


def load_run(home: Path, reference: str) -> Trajectory:
    """The trajectory of a run given by id, unique id prefix or `last`."""
    from .store import open_store, sync

    with open_store(home) as store:
        sync(store)
        summary = store.resolve(reference)
    return read_trajectory(Path(summary.path))


def resume_messages(home: Path, reference: str) -> tuple[Trajectory, list[dict[str, Any]]]:
    """What `run --resume` and the REPL's /resume hand to a new session: the recorded run and its
    whole conversation (every message sent, every answer, the last results)."""
    trajectory = load_run(home, reference)
    messages = trajectory.conversation().messages
    if not messages:
        raise UsageError(f"run {trajectory.run_id} has no conversation to resume (the model was never called)")
    return trajectory, messages
