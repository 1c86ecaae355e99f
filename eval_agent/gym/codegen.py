"""Code the families write into tasks: a bash solution that is a body of Python under the task's
parameters, and a pytest module that is the expected values (computed at generation time, never
from the agent's files) above a body of checks. The body reads the same in every task."""

from __future__ import annotations


def python_script(params: dict, body: str) -> str:
    """A bash solution: the body of Python, under the task's parameters."""
    return f"python3 - <<'PY'\nP = {params!r}\n{body.strip()}\nPY"


def tests_module(constants: dict, body: str) -> str:
    """A pytest module: the expected values (computed here, never from the agent's files), then checks."""
    imports, checks = body.strip().split("\n\n", 1)  # the body starts with its imports
    values = "\n".join(f"{name} = {value!r}" for name, value in constants.items())
    return f"{imports}\n\n{values}\n\n{checks}\n"
