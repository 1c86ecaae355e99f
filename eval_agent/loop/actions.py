"""Small views of an action (a ToolCall): as the OpenAI wire format, and as one line for a commit."""

from __future__ import annotations

import json
from typing import Any

from ..models.base import ToolCall


def openai_tool_call(call: ToolCall, step: int, index: int) -> dict[str, Any]:
    """The tool call as an assistant message carries it; an id is made up when the model gave none."""
    return {"id": call.id or f"call_{step + 1}_{index}", "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)}}


def arguments_of(call: ToolCall) -> dict[str, Any]:
    """The call's arguments when they are an object; {} for anything else a model may send (the
    registry tells the model what was wrong; views of the call must not trip over it)."""
    return call.arguments if isinstance(call.arguments, dict) else {}


def describe(call: ToolCall) -> str:
    """One short line naming the action, for commit messages and warnings."""
    arguments = arguments_of(call)
    if call.name == "bash":
        first_line = str(arguments.get("command", "")).strip().splitlines()[:1]
        return f"bash: {first_line[0][:60] if first_line else ''}"
    if "path" in arguments:
        return f"{call.name} {str(arguments['path'])[:200]}"
    return call.name
