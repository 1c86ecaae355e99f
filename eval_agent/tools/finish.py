"""The finish tool: the model says it is done; the run ends with its summary."""

from __future__ import annotations

from typing import Any

from ..models.base import ToolSchema
from ..sandbox.base import Sandbox
from .base import Observation, function_schema


class FinishTool:
    name = "finish"

    @property
    def schema(self) -> ToolSchema:
        return function_schema(
            self.name,
            "Call when the task is complete (or cannot be completed). Ends the run: no further "
            "tool calls happen. `summary` tells the user what was done, how to use or verify it, "
            "and anything left undone.",
            {"summary": {"type": "string", "description": "What was done, for the user."}},
            ["summary"],
        )

    def run(self, arguments: dict[str, Any], sandbox: Sandbox) -> Observation:
        return Observation(arguments["summary"], finished=True)
