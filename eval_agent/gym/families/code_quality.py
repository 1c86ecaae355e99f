"""Work on code that already runs: write tests that catch bugs (write-tests), rename across a package
(refactor-rename). perf-fix is in code_perf.py.

write-tests and refactor-rename use the package templates of code_bugfix.py: their mutation spots
are the hidden mutants, their test suites the reference tests (each spot is caught by the test file
of its module)."""

from __future__ import annotations

import random

from ..phrasing import bullets, instruction, one_of, paragraph
from ..spec import Family, GeneratedTask
from .code_templates import CONFTEST, TEMPLATES, package_name, render

PYTEST = '[sys.executable, "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider"]'


def generate_write_tests(rng: random.Random, difficulty: str) -> GeneratedTask:
    need = {"easy": 2, "medium": 3, "hard": 4}[difficulty]
    choices = [(name, module) for name, template in TEMPLATES.items() for module in template["modules"]
               if sum(spot[0] == module for spot in template["spots"]) >= need]
    name, module = rng.choice(choices)
    template, pkg = TEMPLATES[name], package_name(rng)
    spots = [spot for spot in template["spots"] if spot[0] == module]
    mutants = spots if difficulty == "hard" else rng.sample(spots, need)  # hard: every way it can break
    package = render(template, pkg, tests=False)
    files = dict(package, **{"conftest.py": CONFTEST})
    if difficulty == "easy":  # the other modules' tests, as an example of the style
        files.update({path: text for path, text in render(template, pkg).items()
                      if path.startswith("tests/") and path != f"tests/test_{module}.py"})
    target = f"tests/test_{module}.py"
    reference = template["tests"][module].replace("PKG", pkg)
    mutations = [(f"{pkg}/{module}.py", original, mutated) for _, original, mutated, _, _ in mutants]
    functions = sorted(line[4:line.index("(")] for line in package[f"{pkg}/{module}.py"].splitlines()
                       if line.startswith("def "))

    lead = paragraph(
        one_of(rng, f"`{pkg}/{module}.py` in /app has no tests yet.", f"Nobody wrote tests for `{pkg}/{module}.py` "
               "(the project is in /app).", f"The module `{pkg}.{module}` (/app/{pkg}/{module}.py) is untested."),
        f"Write a pytest test file for it at /app/{target}, covering "
        + ", ".join(f"`{function}`" for function in functions) + ".")
    how = paragraph(
        "The module is correct as it is: your tests must pass on it. They must also be sharp enough to notice",
        "when its behaviour changes: we will run them against", f"{len(mutants)} slightly broken copies of the module",
        "(the kind of mistake a careless edit makes: an off-by-one, a wrong default, a flipped comparison ...),",
        "and each broken copy has to make at least one of your tests fail.",
        "Check the boundaries and the edge cases the docstrings promise." if difficulty != "easy" else "")
    rules = bullets([
        f"Import it as `from {pkg}.{module} import ...`: the tests are run with `python3 -m pytest {target}` from the "
        "project root, also from copies of the project elsewhere, so don't hardcode /app paths.",
        f"Don't change anything in /app/{pkg}.",
        "Use only pytest and the standard library." if difficulty != "easy"
        else "The other test files in /app/tests show the style we use.",
    ])
    solution = f"mkdir -p /app/tests\ncat > /app/{target} <<'EOF_TESTS'\n{reference}EOF_TESTS"
    tests = f'''import shutil
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path("/app")
TARGET = {target!r}
PACKAGE = {package!r}
MUTATIONS = {mutations!r}


def run_tests(tmp_path, mutation=None):
    """The agent's tests against a fresh copy of the correct package (with one mutation applied)."""
    work = tmp_path / "work"
    for path, text in PACKAGE.items():
        if mutation and path == mutation[0]:
            assert text.count(mutation[1]) == 1
            text = text.replace(mutation[1], mutation[2])
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    shutil.copytree(APP / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    (work / "conftest.py").write_text("")
    done = subprocess.run({PYTEST} + [TARGET], cwd=work, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout[-3000:] + done.stderr[-1000:]


def test_the_test_file_exists():
    assert (APP / TARGET).is_file(), f"/app/{{TARGET}} is missing"


def test_package_left_alone():
    for path, text in PACKAGE.items():
        assert (APP / path).read_text() == text, f"{{path}} was changed"


def test_tests_pass_on_the_correct_module(tmp_path):
    code, output = run_tests(tmp_path)
    assert code == 0, output


@pytest.mark.parametrize("index", range(len(MUTATIONS)))
def test_tests_catch_the_broken_copy(tmp_path, index):
    code, output = run_tests(tmp_path, MUTATIONS[index])
    assert code not in (0, 5), f"the tests still pass when {{MUTATIONS[index][1]!r}} becomes {{MUTATIONS[index][2]!r}}"
'''
    return GeneratedTask(
        family="write-tests", category="testing", difficulty=difficulty, instruction=instruction(lead, how, rules),
        files=files, solution=solution, tests=tests, tags=["python", "pytest", "mutation-testing", name])


# The rename, as source: the generator runs it on the original tests (the hidden copy the package
# must still pass), the solution runs it on /app. Module names change on import lines only.
RENAME = r'''import re


def renamed(text, old_function, new_function, old_module, new_module):
    if old_function:
        text = re.sub(rf"\b{old_function}\b", new_function, text)
    if old_module:
        text = "\n".join(re.sub(rf"\b{old_module}\b", new_module, line)
                         if re.match(r"\s*(from|import)\b", line) else line for line in text.split("\n"))
    return text
'''


def generate_refactor_rename(rng: random.Random, difficulty: str) -> GeneratedTask:
    name = rng.choice(sorted(TEMPLATES))
    template, pkg = TEMPLATES[name], package_name(rng)
    files = render(template, pkg)
    old_module = new_module = old_function = new_function = None
    if difficulty != "easy":
        old_module = rng.choice(sorted(template["module_renames"]))
        new_module = rng.choice(template["module_renames"][old_module])
    if difficulty != "medium":
        functions = sorted(template["renames"])
        in_module = [f for f in functions if f"def {f}(" in template["modules"].get(old_module or "", "")]
        old_function = rng.choice(in_module or functions)
        new_function = rng.choice(template["renames"][old_function])
    home = next(m for m, source in template["modules"].items() if f"def {old_function}(" in source) \
        if old_function else None
    namespace: dict = {}
    exec(RENAME, namespace)
    after = {path: namespace["renamed"](text, old_function, new_function, old_module, new_module)
             for path, text in files.items() if path.startswith("tests/")}
    new_home = new_module if home == old_module else home

    asks = []
    if old_module:
        asks.append(f"rename the module `{pkg}/{old_module}.py` to `{pkg}/{new_module}.py` and update every import "
                    "of it, in the package and in its tests")
    if old_function:
        asks.append(f"rename the function `{old_function}` (defined in `{pkg}/{home}.py`) to `{new_function}`: its "
                    "definition, every call and every import of it, the package's `__init__.py` and the tests "
                    "included")
    where = one_of(rng, f"/app holds the Python package `{pkg}` and its tests (/app/tests).",
                   f"In /app there is a small package, `{pkg}`, with a pytest suite under /app/tests.")
    if len(asks) == 1:
        lead = paragraph(where, one_of(rng, "As a refactoring, ", "We're cleaning up names: ", "Please ")
                         + asks[0] + ".")
    else:
        lead = paragraph(where, one_of(rng, "As a refactoring, do two renames:", "We're cleaning up names; two "
                                       "changes:")) + "\n\n" + bullets([ask[0].upper() + ask[1:] + "." for ask in asks])
    rules = bullets([
        f"Afterwards the old name{'s' if len(asks) > 1 else ''} must be gone from the code: no alias, no wrapper, "
        "no compatibility shim under the old name. Comments and docstrings don't matter.",
        "Behaviour must not change; `cd /app && python3 -m pytest tests` must pass, with the same tests as before "
        "(only their imports and names change).",
        one_of(rng, "Don't rename anything else.", "Leave every other name as it is."),
    ])
    solution = f"""python3 - <<'PY'
from pathlib import Path
{RENAME}
root = Path("/app")
old_module, new_module = {old_module!r}, {new_module!r}
if old_module:
    (root / {pkg!r} / f"{{old_module}}.py").rename(root / {pkg!r} / f"{{new_module}}.py")
for path in root.rglob("*.py"):
    path.write_text(renamed(path.read_text(), {old_function!r}, {new_function!r}, old_module, new_module))
PY"""
    tests = f'''import ast
import io
import os
import subprocess
import sys
import tokenize
from pathlib import Path

APP = Path("/app")
PACKAGE = {pkg!r}
OLD_FUNCTION, NEW_FUNCTION, HOME = {old_function!r}, {new_function!r}, {new_home!r}
OLD_MODULE, NEW_MODULE = {old_module!r}, {new_module!r}
TESTS_AFTER = {after!r}


def sources():
    return [path for path in APP.rglob("*.py") if "__pycache__" not in path.parts]


def run(args, cwd, **env):
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, env={{**os.environ, **env}})
    return done.returncode, done.stdout[-3000:] + done.stderr[-2000:]


def test_old_names_gone_from_the_code():
    for path in sources():
        text = path.read_text()
        if OLD_FUNCTION:
            names = {{token.string for token in tokenize.generate_tokens(io.StringIO(text).readline)
                      if token.type == tokenize.NAME}}
            assert OLD_FUNCTION not in names, f"{{path}} still uses {{OLD_FUNCTION}}"
        if OLD_MODULE:
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    parts = (getattr(node, "module", None) or "").split(".")
                    parts += [part for alias in node.names for part in alias.name.split(".")]
                    assert OLD_MODULE not in parts, f"{{path}} still imports {{OLD_MODULE}}"
    if OLD_MODULE:
        assert not (APP / PACKAGE / f"{{OLD_MODULE}}.py").exists()
        assert (APP / PACKAGE / f"{{NEW_MODULE}}.py").is_file()


def test_new_names_work():
    name = NEW_FUNCTION or "__name__"
    code, output = run([sys.executable, "-B", "-c", f"from {{PACKAGE}}.{{HOME or NEW_MODULE}} import {{name}}"], APP)
    assert code == 0, output


def test_package_tests_still_pass():
    for name in TESTS_AFTER:
        assert (APP / name).is_file(), f"{{name}} is gone"
    code, output = run({PYTEST} + ["tests"], APP)
    assert code == 0, output


def test_original_tests_pass_with_the_new_names(tmp_path):
    for name, text in TESTS_AFTER.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    code, output = run({PYTEST} + ["tests"], tmp_path, PYTHONPATH=str(APP))
    assert code == 0, output
'''
    return GeneratedTask(
        family="refactor-rename", category="refactor", difficulty=difficulty, instruction=instruction(lead, rules),
        files=files, solution=solution, tests=tests, tags=["python", "refactoring", "rename", name])


FAMILIES = [
    Family("write-tests", "testing", generate_write_tests,
           "write pytest tests for a module that pass on it and catch each of several hidden mutants"),
    Family("refactor-rename", "refactor", generate_refactor_rename,
           "rename a function and/or a module across a small package and its tests, tests kept green"),
]
