"""Fix one injected bug in a small Python package (bugfix-python): a template of code_templates.py
under a package name drawn from rng, with ONE of its spots mutated, so the visible tests fail."""

from __future__ import annotations

import random
import re

from ..phrasing import bullets, instruction, one_of, paragraph
from ..codegen import undo_mutation
from ..spec import Family, GeneratedTask
from .code_templates import TEMPLATES, package_name, render, replace_once

PYTEST = '[sys.executable, "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"]'


def generate_bugfix_python(rng: random.Random, difficulty: str) -> GeneratedTask:
    spots = [(name, spot) for name, template in TEMPLATES.items() for spot in template["spots"]
             if spot[3] == difficulty]
    name, (module, original, mutated, _, what) = rng.choice(spots)
    template, pkg = TEMPLATES[name], package_name(rng)
    files = render(template, pkg)
    path = f"{pkg}/{module}.py"
    files[path] = replace_once(files[path], original, mutated)
    if files[path].count(mutated) != 1:
        raise RuntimeError(f"the mutated text must occur once, for the solution to find it: {mutated!r}")
    visible = {f"test_{m}.py": files[f"tests/test_{m}.py"] for m in template["tests"]}
    extra = template["extra"].replace("PKG", pkg)

    run = one_of(rng, "`cd /app && python3 -m pytest tests`", "`python3 -m pytest tests` from /app")
    where = one_of(rng, f"The Python package `{pkg}` in /app", f"The small `{pkg}` package in /app",
                   f"Our `{pkg}` package (in /app/{pkg})")
    if difficulty == "easy":
        lead = paragraph(where, f"has a test suite in /app/tests, and `tests/test_{module}.py` now fails.",
                         f"Someone introduced a bug in `{pkg}/{module}.py`; find it and fix it.")
    elif difficulty == "medium":
        lead = paragraph(where, "comes with tests in /app/tests, and some of them fail since the last change.",
                         "There is one bug in the package code. Track it down and fix it.")
    else:
        lead = paragraph(where, one_of(rng, "gives wrong results in some cases, and its test suite (/app/tests)"
                                       " shows it.", "is misbehaving; a few tests in /app/tests fail."),
                         "Find the root cause in the package and fix it there. Your fix will also be checked "
                         "against more cases than the ones in /app/tests, so fix the real cause, not the "
                         "symptom a test happens to show.")
    rules = bullets([
        f"Run the tests with {run}.",
        "Do not modify, delete or add files under /app/tests; the tests are right, the code is wrong.",
        one_of(rng, "Keep the fix small: change the faulty code, not the design.",
               "Don't rewrite the package; a focused change is what we want."),
    ])
    solution = undo_mutation(path, mutated, original)
    tests = f'''import shutil
import subprocess
import sys
from pathlib import Path

APP = Path("/app")
PACKAGE = {pkg!r}
VISIBLE = {visible!r}
EXTRA = {extra!r}


def run_suite(tmp_path, with_extra):
    """The package as the agent left it, with the original tests (and the extra ones), in a fresh copy."""
    work = tmp_path / "work"
    shutil.copytree(APP / PACKAGE, work / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    (work / "tests").mkdir()
    for name, text in VISIBLE.items():
        (work / "tests" / name).write_text(text)
    if with_extra:
        (work / "tests" / "test_hidden_extra.py").write_text(EXTRA)
    done = subprocess.run({PYTEST} + ["tests"], cwd=work, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout[-3000:] + done.stderr[-2000:]


def test_tests_left_unchanged():
    for name, text in VISIBLE.items():
        assert (APP / "tests" / name).read_text() == text, f"tests/{{name}} was changed"


def test_suite_passes(tmp_path):
    code, output = run_suite(tmp_path, False)
    assert code == 0, output


def test_extra_cases_pass(tmp_path):
    code, output = run_suite(tmp_path, True)
    assert code == 0, output
'''
    return GeneratedTask(
        family="bugfix-python", category="bugfix", difficulty=difficulty, instruction=instruction(lead, rules),
        files=files, solution=solution, tests=tests,
        tags=["python", "pytest", "debugging", name, re.sub(r"^an? ", "", what).replace(" ", "-")])


FAMILIES = [Family("bugfix-python", "bugfix", generate_bugfix_python,
                   "find and fix one bug injected into a small Python package; its tests show it")]
