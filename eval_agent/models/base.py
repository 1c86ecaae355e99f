"""The Model protocol and the plain data that passes through it.

Messages are OpenAI-style dicts (role, content, tool_calls, tool_call_id): the exact list the
model saw is what the trajectory records and what exports write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

Message = dict[str, Any]
ToolSchema = dict[str, Any]  # {"type": "function", "function": {"name", "description", "parameters"}}


@dataclass
class ToolCall:
    """One action in canonical form, whatever the tool mode that produced it."""

    name: str
    arguments: dict[str, Any]
    id: str = ""


@dataclass
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None  # USD; None when the price is unknown


@dataclass
class ModelResponse:
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    latency: float = 0.0
    retries: int = 0
    raw: dict[str, Any] = field(default_factory=dict)  # the answer as the server sent it


@dataclass
class ModelInfo:
    """What the trajectory header records about a model; never a key."""

    provider: str
    name: str
    base_url: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


class Model(Protocol):
    info: ModelInfo

    def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        on_text: Callable[[str], None] | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> ModelResponse:
        """One model call. `tools` given: native function calling. `on_text` receives streamed
        content as it arrives. `response_format` (OpenAI's form, or a bare JSON schema) constrains
        this one answer (the json tool mode). Raises ModelError for failures a user must fix (bad
        key, unknown model, endpoint down after retries)."""
        ...
