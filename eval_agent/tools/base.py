"""The Tool protocol: what the model can do, and the observation it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..models.base import ToolSchema
from ..sandbox.base import Sandbox


@dataclass
class Observation:
    """A tool's result. `output` is what the model sees (already cut to its budget);
    `full_output` is kept for the trajectory."""

    output: str
    ok: bool = True
    exit_code: int | None = None
    full_output: str | None = None
    duration: float = 0.0
    timed_out: bool = False
    finished: bool = False  # the finish tool ends the run
    details: dict[str, Any] = field(default_factory=dict)


class Tool(Protocol):
    name: str

    @property
    def schema(self) -> ToolSchema:
        """{"type": "function", "function": {"name", "description", "parameters"}}"""
        ...

    def run(self, arguments: dict[str, Any], sandbox: Sandbox) -> Observation:
        """Called only through registry.run_tool, which has checked `arguments` against `schema`
        (names, types, required ones): a tool checks only what a schema cannot say. Never raises
        for the model's mistakes (missing files, paths outside the workspace): those come back as
        an observation with ok=False."""
        ...


def function_schema(name: str, description: str, properties: dict, required: list[str]) -> ToolSchema:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required,
                           "additionalProperties": False},
        },
    }
