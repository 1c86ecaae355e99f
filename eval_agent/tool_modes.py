"""How the model is asked for actions. Each mode says what goes with a request and how an answer
becomes canonical ToolCalls, so the loop and the trajectory are the same in every mode:
  native: function calling (tool schemas in the request, tool_calls in the answer);
  text:   a prompted plain-text protocol (text_protocol.py), for models without function calling.
A new mode is one class here and one line in MODES."""

from __future__ import annotations

from typing import Any, Protocol

from .models.base import ModelResponse, ToolCall, ToolSchema
from .text_protocol import FormatError, parse_action


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


MODES: dict[str, type] = {"native": NativeMode, "text": TextMode}


def make_mode(name: str) -> ToolMode:
    return MODES[name]()
