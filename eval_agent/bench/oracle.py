"""The oracle agent runs the task's reference solution instead of asking a model: it proves a
task can be solved and that the bench works, with no model at all. The nop agent does nothing:
it shows that a task's tests fail on the untouched environment.

Both are scripted models (eval_agent/models/scripted.py) driving the real agent loop, so their
runs are recorded like any other: the solution script appears whole in a bash step."""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .tasks import SOLUTION_DIR, Task, solution_steps

FINISH_ORACLE = {"tool": "finish", "args": {"summary": "Ran the task's reference solution."}}


def oracle_actions(task: Task) -> list[dict[str, Any]]:
    """The scripted actions that run the solution: one bash step that writes the script to
    /solution and runs it (Harbor's solve.sh, Terminal-Bench's solution.sh), or one bash step per
    entry of Terminal-Bench's solution.yaml; then finish."""
    if task.solution_script is not None:
        script = task.solution_script.read_text(encoding="utf-8")
        target = f"{SOLUTION_DIR}/{task.solution_script.name}"
        delimiter = f"EA_SOLUTION_{secrets.token_hex(4)}"
        command = (f"mkdir -p {SOLUTION_DIR} && cat > {target} <<'{delimiter}'\n"
                   f"{script if script.endswith(chr(10)) else script + chr(10)}{delimiter}\n"
                   f"bash {target}")
        steps = [{"command": command, "timeout": task.agent_timeout}]
    elif task.solution_yaml is not None:
        steps = solution_steps(task)
    else:
        raise UsageError(f"task {task.id} has no solution (solution/solve.sh, solution.sh or solution.yaml)")
    actions: list[dict[str, Any]] = [{"tool": "bash", "args": step} for step in steps]
    actions[0]["content"] = "Running the task's reference solution."
    return actions + [FINISH_ORACLE]


def nop_actions() -> list[dict[str, Any]]:
    return [{"content": "Doing nothing, to check that the tests fail on the untouched environment.",
             "tool": "finish", "args": {"summary": "Did nothing."}}]


def write_script(actions: list[dict[str, Any]], folder: Path, name: str) -> Path:
    """A scripted model file for `actions` (the model spec is scripted:PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    # written aside, then renamed: another attempt of the task may be reading the file right now
    aside = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.json"
    aside.write_text(json.dumps(actions, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(aside, path)
    return path
