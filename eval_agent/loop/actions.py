"""Small views of an action (a ToolCall): as the OpenAI wire format, and as one line for a commit."""

from __future__ import annotations

import json
from typing import Any

from ..models.base import ToolCall


def openai_tool_call(call: ToolCall, step: int, index: int) -> dict[str, Any]:
    """The tool call as an assistant message carries it; an id is made up when the model gave none."""
    return {"id": call.id or f"call_{step + 1}_{index}", "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)}}


def describe(call: ToolCall) -> str:
    """One short line naming the action, for commit messages and warnings."""
    arguments = call.arguments
    if call.name == "bash":
        first_line = str(arguments.get("command", "")).strip().splitlines()[:1]
        return f"bash: {first_line[0][:60] if first_line else ''}"
    if "path" in arguments:
        return f"{call.name} {arguments['path']}"
    return call.name
