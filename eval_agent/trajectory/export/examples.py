"""A trajectory as one training example: the conversation the model saw, in OpenAI's chat shape
(roles system, user, assistant, tool; tool-call arguments as JSON strings), closed by a
content-only assistant turn so that a tuned model learns to stop. Each format writer starts
from this one shape."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..reader import Trajectory


@dataclass
class Example:
    run_id: str
    request: str
    messages: list[dict[str, Any]]  # system first when the run had one
    tools: list[dict[str, Any]]  # the schemas sent with the calls; [] when tools went as text
    failed: set[int] = field(default_factory=set)  # indexes of assistant turns whose action failed
    meta: dict[str, Any] = field(default_factory=dict)  # model, status, verified, rating, task ...

    @property
    def system(self) -> str:
        return self.messages[0]["content"] if self.messages and self.messages[0]["role"] == "system" else ""

    @property
    def turns(self) -> list[dict[str, Any]]:
        """The messages after the system prompt."""
        return self.messages[1:] if self.system else self.messages

    @property
    def steps(self) -> int:
        return sum(len(message.get("tool_calls") or []) for message in self.messages) or int(self.meta.get("steps") or 0)


def closing_text(trajectory: Trajectory) -> str:
    finished = trajectory.finished or {}
    if finished.get("status") == "finished":
        return finished.get("summary") or "Done."
    reason = finished.get("reason") or "the run was cut off before it finished"
    return f"I stopped before finishing: {reason}."


def make_example(trajectory: Trajectory) -> Example:
    conversation = trajectory.conversation()
    messages = [_clean(message) for message in conversation.messages]
    failed = {index for index, bad in conversation.failed.items() if bad}
    last = messages[-1] if messages else None
    if not (last and last["role"] == "assistant" and not last.get("tool_calls")):
        messages.append({"role": "assistant", "content": closing_text(trajectory)})
    summary = trajectory.summary
    meta = {"model": summary.model, "status": summary.status, "verified": summary.verified, "reward": summary.reward,
            "rating": summary.rating, "task_id": summary.task_id, "steps": summary.steps,
            "started_at": summary.started_at, "tool_mode": summary.tool_mode}
    return Example(run_id=trajectory.run_id, request=summary.request, messages=messages,
                   tools=trajectory.tools if conversation.native_tools else [], failed=failed, meta=meta)


def _clean(message: dict[str, Any]) -> dict[str, Any]:
    """Only the fields a chat API takes, content always a string."""
    out: dict[str, Any] = {"role": message["role"], "content": message.get("content") or ""}
    if message.get("tool_calls"):
        out["tool_calls"] = [{"id": call.get("id") or "", "type": "function",
                              "function": {"name": call["function"]["name"],
                                           "arguments": _json_text(call["function"].get("arguments"))}}
                             for call in message["tool_calls"]]
    if message["role"] == "tool":
        out["tool_call_id"] = message.get("tool_call_id") or ""
    return out


def _json_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments or {}, ensure_ascii=False)


def arguments_object(text: str) -> Any:
    """Arguments as an object (TRL, LLaMA-Factory); a string that is not JSON stays as it was sent."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def function_definitions(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """{"type": "function", "function": {...}} -> the bare {"name", "description", "parameters"}."""
    return [tool.get("function", tool) for tool in tools]


ROLES = ("agent", "reviewer")


def review_examples(trajectory: Trajectory) -> list[Example]:
    """Each review turn of a run as its own example: the reviewer's conversation and verdict,
    with the run's verified label beside it (a reviewer that accepted a run whose tests then
    failed was wrong: filter on meta before training one)."""
    summary = trajectory.summary
    examples = []
    for index, event in enumerate(e for e in trajectory.events if e.get("type") == "reviewed"):
        messages = [_clean(message) for message in event.get("messages") or []]
        messages.append(_clean(event.get("answer") or {"role": "assistant", "content": ""}))
        meta = {"model": event.get("model"), "role": "reviewer", "accepted": bool(event.get("accepted")),
                "status": summary.status, "verified": summary.verified, "task_id": summary.task_id,
                "step": event.get("step"), "review": index + 1, "started_at": summary.started_at}
        examples.append(Example(run_id=trajectory.run_id, request=summary.request, messages=messages, tools=[], meta=meta))
    return examples


def role_examples(trajectory: Trajectory, role: str) -> list[Example]:
    """The examples a run gives for one role: the working model's conversation (one), or the
    review turns (any number)."""
    return [make_example(trajectory)] if role == "agent" else review_examples(trajectory)
