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


def undo_mutation(path: str, mutated: str, original: str) -> str:
    """A bash solution to a bug-fix task: the one injected change put back, checked to be there once."""
    return f"""python3 - <<'PY'
from pathlib import Path
path = Path("/app/{path}")
text = path.read_text()
old, new = {mutated!r}, {original!r}
assert text.count(old) == 1, "the faulty code is not where it was"
path.write_text(text.replace(old, new))
PY"""


# Python for solutions that read nested records: a dotted path's value, None where it is missing
DOTTED_GET = '''def get(record, path):
    for part in path.split("."):
        if not isinstance(record, dict) or part not in record:
            return None
        record = record[part]
    return record
'''
