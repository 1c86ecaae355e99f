"""The plain data the loop takes and gives: Limits in, the user's Approval of an action, the
Outcome of a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Limits:
    max_steps: int = 50
    max_cost: float | None = None  # USD
    max_seconds: float | None = None
    max_format_errors: int = 3  # consecutive
    stuck_repeats: int = 3  # the same action with the same result this many times: a warning


@dataclass
class Approval:
    """What the user said about an action before it ran."""

    decision: str = "approved"  # approved | rejected | edited
    comment: str = ""  # for rejected: what the model is told
    arguments: dict[str, Any] | None = None  # for edited: the arguments to run instead


@dataclass
class Outcome:
    status: str  # finished | limit | error | interrupted
    reason: str = ""
    summary: str = ""
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0
    seconds: float = 0.0
    plan: list[dict] = field(default_factory=list)
