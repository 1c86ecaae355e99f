"""`traj show` and `traj ls` for people: a run step by step, and a table of runs."""

from __future__ import annotations

import json
from datetime import datetime

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .reader import Trajectory
from .summary import RunSummary

STATUS_STYLE = {"finished": "green", "limit": "yellow", "error": "red", "interrupted": "yellow",
                "incomplete": "red", "running": "cyan"}
SHOWN_LINES = 12  # of each observation, unless --full


def when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M") if stamp else "?"


def money(cost: float | None) -> str:
    return "?" if cost is None else f"${cost:.4f}"


def runs_table(runs: list[RunSummary]) -> Table:
    table = Table(box=None, header_style="bold", padding=(0, 1, 0, 0))
    for name, width in (("run", 22), ("started", 11), ("status", 10), ("steps", 5), ("tokens", 6), ("cost", 4), ("label", 5)):
        table.add_column(name, no_wrap=True, min_width=width, justify="right" if name in ("steps", "tokens", "cost") else "left")
    table.add_column("model", overflow="ellipsis", no_wrap=True, max_width=20)
    table.add_column("request", overflow="ellipsis", no_wrap=True, ratio=1, min_width=12)
    for run in runs:
        status = run.effective_status()
        label = " ".join(part for part in ("" if run.verified is None else ("passed" if run.verified else "failed"),
                                           run.rating or "") if part)
        request = run.request.strip().splitlines()[0] if run.request.strip() else ""
        table.add_row(run.run_id, when(run.started_at)[5:], Text(status, style=STATUS_STYLE.get(status, "")),
                      str(run.steps), f"{run.tokens:,}", money(run.cost), label, run.model, request)
    return table


def _cut(text: str, full: bool) -> str:
    lines = text.rstrip("\n").splitlines()
    if full or len(lines) <= SHOWN_LINES:
        return "\n".join(lines)
    half = SHOWN_LINES // 2
    return "\n".join(lines[:half] + [f"... ({len(lines) - SHOWN_LINES} more lines; --full shows all)"] + lines[-half:])


def _action(tool: str, arguments: dict) -> str:
    if tool == "bash":
        return "$ " + str(arguments.get("command", ""))
    if tool == "finish":
        return "finish"
    detail = {key: value for key, value in arguments.items() if key != "path"}
    shown = json.dumps(detail, ensure_ascii=False)
    return f"{tool} {arguments.get('path', '')} {shown[:200]}{'...' if len(shown) > 200 else ''}".strip()


def show(trajectory: Trajectory, console: Console, full: bool = False) -> None:
    run = trajectory.summary
    started = trajectory.started
    status = trajectory.status
    head = Text.assemble((run.run_id, "bold"), " · ", (status, STATUS_STYLE.get(status, "")),
                         f" · {run.steps} steps · {run.input_tokens:,} in / {run.output_tokens:,} out tokens"
                         f" · {money(run.cost)}" + (f" · {run.seconds:.1f} s" if run.seconds is not None else ""))
    lines = [head, Text(f"request: {run.request}"),
             Text(f"model: {run.model} ({run.tool_mode} tools) · {when(run.started_at)} · "
                  f"workspace: {(started.get('workspace') or {}).get('path') or '(none)'}", style="dim")]
    if run.task_id:
        lines.append(Text(f"task: {run.task_id}" + (f" attempt {run.attempt}" if run.attempt is not None else ""), style="dim"))
    if run.resumed_from:
        lines.append(Text(f"continues run {run.resumed_from}", style="dim"))
    if run.verified is not None:
        lines.append(Text(f"verified: {'passed' if run.verified else 'failed'}"
                          + (f" (reward {run.reward})" if run.reward is not None else ""),
                          style="green" if run.verified else "red"))
    if run.rating:
        lines.append(Text(f"rated {run.rating}" + (f": {run.rating_comment}" if run.rating_comment else "")))
    console.print(Group(*lines))
    thoughts = _thoughts(trajectory)
    for event in trajectory.events:
        kind = event.get("type")
        if kind == "plan_updated":
            items = "\n".join(f"[{'x' if item.get('done') else ' '}] {item.get('text', '')}" for item in event.get("items", []))
            console.print(Panel(Text(items), title="plan", title_align="left", border_style="blue"))
        elif kind == "tool_finished":
            step = event["step"]
            facts = [f"exit {event['exit_code']}"] if event.get("exit_code") is not None else []
            facts += [f"{event.get('duration') or 0:.1f} s"] + (["timed out"] if event.get("timed_out") else [])
            facts += [f"commit {event['commit'][:10]}"] if event.get("commit") else []
            console.print(Text(f"── step {step} · {event['tool']} · {' · '.join(facts)}",
                               style="bold" if event.get("ok") else "bold red"))
            if thoughts.get(step):
                console.print(Text(_cut(thoughts[step], full), style="italic"))
            console.print(Text(_action(event["tool"], event.get("arguments") or {})))
            if event["tool"] != "finish":
                console.print(Text(_cut(event.get("observation", ""), full), style="dim"))
        elif kind == "format_error":
            console.print(Text(f"── no usable action: {event.get('error', '')}", style="yellow"))
        elif kind == "user_decision" and event.get("decision") != "approved":
            console.print(Text(f"── the user {event['decision']} step {event['step']}: {event.get('comment', '')}", style="yellow"))
        elif kind == "notice" and event.get("level") == "warning":
            console.print(Text(f"── {event.get('message', '')}", style="yellow"))
    finished = trajectory.finished
    if finished:
        console.print(Panel(Text(finished.get("summary") or finished.get("reason") or ""), title=Text(str(finished.get("status") or "")),
                            title_align="left", border_style=STATUS_STYLE.get(finished.get("status"), "white")))
    else:
        console.print(Text(f"incomplete: the record ends after {len(trajectory.events)} events "
                           f"(the run was {'still running' if status == 'running' else 'killed or crashed'})",
                           style="red"))


def _thoughts(trajectory: Trajectory) -> dict[int, str]:
    """The text of the answer that asked for each step (the model's reasoning beside the call)."""
    thoughts: dict[int, str] = {}
    text, calls = "", 0
    for event in trajectory.events:
        if event.get("type") == "model_called":
            answer = event.get("answer") or {}
            text, calls = (answer.get("content") or "").strip(), 0
        elif event.get("type") == "tool_finished" and text and calls == 0:
            thoughts[event["step"]] = text
            calls += 1
    return thoughts
