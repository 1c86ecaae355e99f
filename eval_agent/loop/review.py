"""The review turn before `finish`: a reviewer (the working model by default, or another one)
weighs the request against the evidence of the run (the actions with their exit codes, the last
outputs, the diff) and accepts, or sends findings back to the working model.

The reviewer has a conversation of its own (prompts/review_system.j2 and review.j2), kept apart
from the working model's: the working model sees only the findings, as the answer to its finish
call. A reviewer's answer that cannot be read counts as acceptance, so a confused reviewer can
delay a run by at most one turn and never trap it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..models.base import Message, Model, ModelResponse
from .prompts import Prompts

STEPS_SHOWN = 12  # the last actions are what matter for "is it done"; older ones cost context
OUTPUT_TAIL_CHARS = 400
DIFF_CHARS = 4000

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["accept", "revise"]},
        "findings": {"type": "string", "maxLength": 600},
    },
    "required": ["verdict", "findings"],
    "additionalProperties": False,
}


@dataclass
class StepEvidence:
    step: int
    action: str  # one line: `bash: pytest -q`, `edit_file app.py`
    exit_code: int | None
    ok: bool
    output_tail: str


@dataclass
class Evidence:
    request: str
    summary: str
    steps: list[StepEvidence] = field(default_factory=list)
    diff: str | None = None  # None: the workspace has no git history to diff


@dataclass
class Verdict:
    accepted: bool
    findings: str
    readable: bool = True  # False: the answer was not a verdict (counted as acceptance)


@dataclass
class ReviewTurn:
    verdict: Verdict
    messages: list[Message]
    response: ModelResponse


class Reviewer:
    """`constrained`: ask for the verdict through response_format (small local models, which
    otherwise drift from the format); other models get the format in the prompt only."""

    def __init__(self, model: Model, prompts: Prompts, max_reviews: int = 2, constrained: bool = False):
        self.model, self.prompts = model, prompts
        self.max_reviews, self.constrained = max_reviews, constrained

    def review(self, evidence: Evidence) -> ReviewTurn:
        messages: list[Message] = [
            {"role": "system", "content": self.prompts.render("review_system")},
            {"role": "user", "content": self.prompts.render("review", **_template_values(evidence))},
        ]
        options = {"response_format": {"type": "json_schema", "json_schema": {"name": "verdict", "schema": VERDICT_SCHEMA}}} \
            if self.constrained else {}
        response = self.model.complete(messages, **options)
        return ReviewTurn(parse_verdict(response.content or ""), messages, response)


def parse_verdict(text: str) -> Verdict:
    """A JSON object {"verdict", "findings"} anywhere in the answer; else a leading ACCEPT or
    REVISE word; else unreadable (accepted)."""
    for match in re.finditer(r"\{.*\}", text, re.DOTALL):
        try:
            data = json.loads(match.group(0))
        except ValueError:
            continue
        if isinstance(data, dict) and str(data.get("verdict", "")).lower() in ("accept", "revise"):
            findings = data.get("findings")
            findings = findings.strip() if isinstance(findings, str) else ""
            return Verdict(str(data["verdict"]).lower() == "accept", findings)
    words = text.strip().split(None, 1)
    head = words[0].strip(":.*").lower() if words else ""
    if head in ("accept", "accepted", "revise"):
        return Verdict(head != "revise", words[1].strip() if len(words) > 1 else "")
    return Verdict(True, "", readable=False)


def _template_values(evidence: Evidence) -> dict[str, Any]:
    steps = evidence.steps[-STEPS_SHOWN:]
    diff = evidence.diff
    if diff is not None and len(diff) > DIFF_CHARS:
        diff = diff[:DIFF_CHARS] + f"\n[... {len(evidence.diff) - DIFF_CHARS} more characters of diff]"
    return {"request": evidence.request, "summary": evidence.summary, "steps": steps,
            "steps_left_out": len(evidence.steps) - len(steps), "diff": diff,
            "last_failed": bool(steps) and not steps[-1].ok}


def step_evidence(step: int, action: str, exit_code: int | None, ok: bool, output: str) -> StepEvidence:
    tail = output.strip()
    if len(tail) > OUTPUT_TAIL_CHARS:
        tail = "..." + tail[-OUTPUT_TAIL_CHARS:]
    return StepEvidence(step, action, exit_code, ok, tail)


DiffSource = Callable[[], "str | None"]
