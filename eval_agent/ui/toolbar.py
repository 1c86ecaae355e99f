"""The REPL's running totals (steps, tokens, cost over the whole session) and its bottom toolbar."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..loop.agent import Outcome


@dataclass
class RunSummary:
    run_id: str
    request: str
    status: str
    record: Path | None


@dataclass
class SessionTally:
    """What this REPL session has spent so far, summed over its runs."""

    model: str
    approval: str = "auto"  # auto | confirm
    runs: list[RunSummary] = field(default_factory=list)
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0  # None once any call had an unknown price
    seconds: float = 0.0
    services: list[str] = field(default_factory=list)  # from the last run that checked

    def add(self, run_id: str, request: str, outcome: Outcome, record: Path | None) -> None:
        self.runs.append(RunSummary(run_id, request, outcome.status, record))
        self.steps += outcome.steps
        self.input_tokens += outcome.input_tokens
        self.output_tokens += outcome.output_tokens
        self.seconds += outcome.seconds
        if self.cost is not None:
            self.cost = None if outcome.cost is None else self.cost + outcome.cost

    @property
    def cost_text(self) -> str:
        return "unknown cost" if self.cost is None else f"${self.cost:.4f}"

    @property
    def last_run(self) -> RunSummary | None:
        return self.runs[-1] if self.runs else None


def toolbar_text(tally: SessionTally) -> list[tuple[str, str]]:
    """prompt-toolkit formatted text for the bottom toolbar."""
    parts: list[tuple[str, str]] = [
        ("bold", f" {tally.model} "),
        ("", "│ "),
        ("bold" if tally.approval == "confirm" else "", tally.approval),
        ("", f" │ {tally.steps} steps │ {tally.input_tokens}/{tally.output_tokens} tokens │ {tally.cost_text} "),
    ]
    if tally.services:
        parts.append(("", "│ " + " ".join(tally.services) + " "))
    else:
        parts.append(("", "│ Esc Enter: new line · /help "))
    return parts
