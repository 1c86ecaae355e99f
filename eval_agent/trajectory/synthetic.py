"""Synthetic trajectories, for export tests and the throughput benchmark: built from the real
event dataclasses, the real tool schemas and the recorder's own header, so a synthetic file reads
exactly like a recorded one. Written in one go per file (no fsync per event: these are not runs)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..events import (Event, ModelCalled, PlanUpdated, Rated, RunFinished, RunStarted, ToolFinished, ToolStarted,
                      Verification)
from ..tools.registry import default_tools, tool_schemas
from .recorder import header_record, trajectories_dir

SYSTEM = ("You are eval-agent, a careful software engineer working in a terminal. You complete the user's request "
          "by acting in a sandbox, one tool call at a time, and you check your work before you finish.\n") * 12
WORDS = ("app test todo server request handler json route flask pytest assert status item list create delete "
         "update config module import function return value error passed failed line file path build").split()


@dataclass
class SyntheticRun:
    run_id: str
    request: str = "build a todo service"
    steps: int = 5  # tool calls before finish
    status: str = "finished"  # finished | limit | incomplete (no run_finished)
    model: tuple[str, str] = ("openai", "gpt-4o-mini")
    started_at: float = 1_790_000_000.0
    task: dict | None = None  # {"id": ..., "attempt": ..., "tags": [...]}
    verified: bool | None = None
    rating: str | None = None
    failed_steps: tuple[int, ...] = ()  # these steps exit 1
    commands: list[str] | None = None  # the bash commands, one per step (default: generated)
    secret: str | None = None  # put into one observation, as a tool might print it
    tokens_per_call: int = 900
    seed: int = 0
    extra_events: list[Event] = field(default_factory=list)


def _text(rng: random.Random, lines: int) -> str:
    return "\n".join(" ".join(rng.choice(WORDS) + str(rng.randint(0, 9999)) for _ in range(rng.randint(4, 12)))
                     for _ in range(lines))


def events_for(spec: SyntheticRun) -> list[Event]:
    rng = random.Random(spec.seed)
    tools = tool_schemas(default_tools())
    timeline = iter(spec.started_at + index * 0.5 for index in range(10_000))

    def at(event: Event) -> Event:
        event.time = next(timeline)
        return event

    events: list[Event] = [at(RunStarted(
        run_id=spec.run_id, session_id="s-" + spec.run_id, request=spec.request,
        model={"provider": spec.model[0], "name": spec.model[1], "base_url": None, "parameters": {}},
        tool_mode="native", tools=tools, prompts={"dir": "builtin", "templates": {}}, sandbox={"kind": "docker"},
        workspace={"path": "", "base_commit": None}, limits={"max_steps": 50}, version=__version__, task=spec.task))]
    system = {"role": "system", "content": SYSTEM}
    plan_request = {"role": "user", "content": spec.request + "\n\nBefore acting, write your plan as a checklist."}
    plan = {"role": "assistant", "content": "- [ ] write the code\n- [ ] test it"}
    usage = {"input_tokens": spec.tokens_per_call, "output_tokens": 40, "cost": 0.0001, "latency": 0.2, "retries": 0}
    events.append(at(ModelCalled(step=0, purpose="plan", new_messages=[system, plan_request], answer=plan, **usage)))
    events.append(at(PlanUpdated(items=[{"text": "write the code", "done": False}, {"text": "test it", "done": False}])))
    pending = [{"role": "user", "content": "Now carry out the plan, one tool call at a time."}]
    total = spec.steps + (1 if spec.status == "finished" else 0)
    for step in range(1, total + 1):
        finishing = step > spec.steps
        if finishing:
            name, arguments = "finish", {"summary": f"Done: {spec.request}."}
        else:
            command = spec.commands[step - 1] if spec.commands else f"python3 -m pytest -q tests/test_{rng.choice(WORDS)}.py"
            name, arguments = "bash", {"command": command}
        call_id = f"call_{spec.run_id}_{step}"
        answer = {"role": "assistant", "content": _text(rng, 1) if rng.random() < 0.5 else "",
                  "tool_calls": [{"id": call_id, "type": "function",
                                  "function": {"name": name, "arguments": json.dumps(arguments)}}]}
        usage["input_tokens"] = spec.tokens_per_call + 120 * step
        events.append(at(ModelCalled(step=step - 1, purpose="act", new_messages=pending, answer=answer, **usage)))
        events.append(at(ToolStarted(step=step, tool=name, arguments=arguments, call_id=call_id)))
        failed = step in spec.failed_steps
        output = arguments["summary"] if finishing else _text(rng, rng.randint(2, 10))
        if spec.secret and step == 1:
            output += f"\nexport API_TOKEN={spec.secret}"
        observation = output + ("\n[exit code: 1]" if failed else "")
        events.append(at(ToolFinished(step=step, tool=name, arguments=arguments, call_id=call_id, observation=observation,
                                      ok=not failed, exit_code=None if finishing else int(failed), full_output=output,
                                      duration=0.3, timed_out=False, commit=None if finishing else f"{step:040x}")))
        pending = [{"role": "tool", "content": observation, "tool_call_id": call_id}]
    if spec.status != "incomplete":
        reason = "the agent called finish" if spec.status == "finished" else "step limit reached"
        events.append(at(RunFinished(run_id=spec.run_id, status=spec.status, reason=reason,
                                     summary=f"Done: {spec.request}." if spec.status == "finished" else "",
                                     steps=total, input_tokens=spec.tokens_per_call * (total + 1), output_tokens=40 * (total + 1),
                                     cost=0.0001 * (total + 1), seconds=total * 0.5, services=[])))
    if spec.verified is not None:
        events.append(at(Verification(command="pytest -q", passed=spec.verified, reward=1.0 if spec.verified else 0.0,
                                      output="1 passed" if spec.verified else "1 failed")))
    if spec.rating:
        events.append(at(Rated(run_id=spec.run_id, rating=spec.rating)))
    return events + spec.extra_events


def write_run(home: Path, spec: SyntheticRun) -> Path:
    folder = trajectories_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    header = header_record(spec.run_id, "s-" + spec.run_id)
    header.update(created=spec.started_at, pid=None, pid_started=None)  # no live process: unfinished reads incomplete
    lines = [json.dumps(header)] + [json.dumps(event.to_dict(), ensure_ascii=False) for event in events_for(spec)]
    path = folder / f"{spec.run_id}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
