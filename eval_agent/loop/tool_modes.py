"""How the model is asked for actions. Each mode says what goes with a request and how an answer
becomes canonical ToolCalls, so the loop and the trajectory are the same in every mode:
  native: function calling (tool schemas in the request, tool_calls in the answer);
  text:   a prompted plain-text protocol (text_protocol.py), for models without function calling;
  json:   every answer constrained to a JSON action schema (json_protocol.py), for small models.
A new mode is one class here and one line in MODES. A mode may also have `decode(answer)`, which
the loop applies before recording an answer (json: the JSON action becomes a canonical tool call)."""

from __future__ import annotations

from typing import Any, Protocol

from ..models.base import ModelResponse, ToolCall, ToolSchema
from . import json_protocol
from ..errors import FormatError
from .text_protocol import parse_action


class ToolMode(Protocol):
    name: str
    native_tool_messages: bool  # observations go back as role "tool" answers to tool_call ids

    def request_options(self, tools: list[ToolSchema]) -> dict[str, Any]:
        """Keyword arguments for Model.complete when the model is asked to act."""
        ...

    def parse(self, answer: ModelResponse) -> list[ToolCall]:
        """The actions in an answer; raises FormatError (its text is shown to the model)."""
        ...


class NativeMode:
    name = "native"
    native_tool_messages = True

    def request_options(self, tools: list[ToolSchema]) -> dict[str, Any]:
        return {"tools": tools}

    def parse(self, answer: ModelResponse) -> list[ToolCall]:
        if not answer.tool_calls:
            raise FormatError("it called no tool.")
        return answer.tool_calls


class TextMode:
    name = "text"
    native_tool_messages = False

    def request_options(self, tools: list[ToolSchema]) -> dict[str, Any]:
        return {}

    def parse(self, answer: ModelResponse) -> list[ToolCall]:
        return [parse_action(answer.content)]


class JsonMode:
    """response_format with a JSON schema (a union of the tools' own arguments): every answer
    parses; the action is stored as tool_calls on the assistant message, as in native mode."""

    name = "json"
    native_tool_messages = True

    def request_options(self, tools: list[ToolSchema]) -> dict[str, Any]:
        return {"response_format": json_protocol.response_format(tools)}

    def decode(self, answer: ModelResponse) -> ModelResponse:
        return json_protocol.decode(answer)

    def parse(self, answer: ModelResponse) -> list[ToolCall]:
        if answer.tool_calls:
            return answer.tool_calls
        json_protocol.parse_answer(answer.content)  # raises the FormatError that says why
        raise FormatError("it called no tool.")


MODES: dict[str, type] = {"native": NativeMode, "text": TextMode, "json": JsonMode}


def make_mode(name: str) -> ToolMode:
    return MODES[name]()
