"""The Python API: run a request from a script and get the outcome and the run id.

    from eval_agent import run
    result = run("write fizzbuzz.py and run it", workspace="proj", model="openai:gpt-4o-mini")
    result.outcome.status, result.run_id, result.record

For several requests in one sandbox and conversation, use Session directly:

    from eval_agent import Session, load_settings
    with Session(load_settings({"model": "openai:gpt-4o-mini"}), Path("proj")) as session:
        session.run("build a todo service"); session.run("now add DELETE /todos/ID")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .config import load_settings
from .events import Event
from .session import RunResult, Session


def run(request: str, workspace: str | Path = ".", *, model: str | None = None,
        on_event: Callable[[Event], None] | None = None, **settings: Any) -> RunResult:
    """Runs one request in a fresh sandbox on `workspace`; settings are the config's fields
    (max_steps, network, tool_mode, base_url, ...). Raises EvalAgentError subclasses for
    problems a user must fix (bad model spec, Docker unreachable)."""
    resolved = load_settings({"model": model, **settings})
    with Session(resolved, Path(workspace), emit=on_event) as session:
        return session.run(request)
