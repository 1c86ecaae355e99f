"""git: a history where one commit (not the last) broke a check; find it and revert it with a
revert commit, history kept."""

from __future__ import annotations

import random
import shlex

from ..phrasing import NOUNS, instruction, one_of, paragraph, sample, slug
from ..spec import Family, GeneratedTask
from .git_ops import TEST_PRELUDE, TOPICS, History


def render_module(functions: dict[str, dict]) -> str:
    parts = []
    for name, f in functions.items():
        parts.append(f'def {name}(x):\n    """{f["doc"]}"""\n    return x * {f["a"]} {f["op"]} {f["b"]}\n')
    return "\n\n".join(parts)


def render_check(module: str, cases: dict[str, tuple[int, int]]) -> str:
    lines = "".join(f"    ({name!r}, {x}, {want}),\n" for name, (x, want) in cases.items())
    # no bytecode cache: a checkout within the same second can leave a stale .pyc of the same size
    return (f'"""Checks {module}.py: one line per case; exits 1 when any case fails."""\nimport sys\n\n'
            f"sys.dont_write_bytecode = True\nimport {module}  # noqa: E402\n\n"
            f"CASES = [\n{lines}]\nfailed = 0\nfor name, arg, want in CASES:\n"
            f"    got = getattr({module}, name)(arg)\n    failed += got != want\n"
            "    print(('ok  ' if got == want else 'FAIL') + f' {name}({arg}) = {got}, expected {want}')\n"
            "sys.exit(1 if failed else 0)\n")


def generate_git_revert(rng: random.Random, difficulty: str) -> GeneratedTask:
    project, module = slug(rng, "-"), rng.choice(["pricing", "scoring", "rates", "rules", "tariffs", "weights"])
    repo = f"/app/{project}"
    history = History(rng, repo)
    names = iter(sample(rng, [f"{verb}_{noun}" for verb in ("scale", "price", "score", "weigh", "rate", "bonus")
                              for noun in NOUNS], 40))
    functions: dict[str, dict] = {}
    cases: dict[str, tuple[int, int]] = {}

    def value(f, x):
        return x * f["a"] + f["b"] if f["op"] == "+" else x * f["a"] - f["b"]

    def add_function() -> str:
        name, x = next(names), rng.randint(3, 30)
        functions[name] = {"a": rng.randint(2, 9), "b": rng.randint(1, 40), "op": rng.choice("+-"),
                           "doc": f"The {name.replace('_', ' ')} of x."}
        cases[name] = (x, value(functions[name], x))
        return name

    def files() -> dict[str, str]:
        return {f"{module}.py": render_module(functions), "check.py": render_check(module, cases)}

    def legit_change(protected) -> None:  # a real change of one function, its case updated with it
        name = rng.choice([n for n in functions if n not in protected])
        functions[name]["a"] += rng.randint(1, 3)
        cases[name] = (cases[name][0], value(functions[name], cases[name][0]))
        history.commit(f"Change {name} factor to {functions[name]['a']}", files())

    for _ in range({"easy": 2, "medium": 3, "hard": 4}[difficulty]):
        add_function()
    history.commit("Initial commit", {**files(), ".gitignore": "__pycache__/\n",
                                      "README.md": f"# {project}\n\nRun `python3 check.py` to check {module}.py.\n"})
    for _ in range({"easy": 1, "medium": 2, "hard": 3}[difficulty]):
        history.commit(f"Add {add_function()}", files())
    if difficulty == "hard":
        legit_change(())
    # the bad commit: a function changes but its case does not (not the last function: a later append
    # right after it would make the revert conflict); hard also tidies another function's docstring
    bad_name = rng.choice(list(functions)[:-1])
    before = {bad_name: dict(functions[bad_name])}
    functions[bad_name][rng.choice(["a", "b"])] += rng.randint(1, 4)
    if difficulty == "hard":
        other = rng.choice([n for n in functions if n != bad_name])
        before[other] = dict(functions[other])
        functions[other]["doc"] = functions[other]["doc"].replace("The", "Compute the")
    bad_subject = one_of(rng, "Simplify {}", "Tidy up {}", "Refactor {}", "Inline the constants of {}",
                         "Clean up arithmetic in {}").format(bad_name)
    bad = history.commit(bad_subject, files())
    for index in range(rng.randint(*{"easy": (1, 2), "medium": (2, 4), "hard": (3, 5)}[difficulty])):
        if difficulty == "hard" and index == 1:
            legit_change(before)  # (the lines next to what the revert restores stay untouched)
        elif rng.random() < 0.3:
            history.commit(history.subject(["Document"], TOPICS),
                           {"README.md": history.trees["main"]["README.md"] + f"\n{rng.choice(TOPICS).capitalize()}: see the code.\n"})
        else:
            history.commit(f"Add {add_function()}", files())
    original = history.logs["main"]
    for name, state in before.items():  # what the tree must be once the bad commit is reverted
        functions[name] = state
    expected = files()

    custom = rng.random() < 0.5 and difficulty != "easy"
    subject = (one_of(rng, "Revert the change that broke check.py", f"Back out the regression in {module}.py",
                      f"Undo the breaking {module} change") if custom else f'Revert "{bad_subject}"')
    message_words = (f"Give the revert commit the subject `{subject}`, and keep git's line "
                     "`This reverts commit <full hash>.` in its body." if custom else
                     "Keep the message that `git revert` writes.")
    asks = [
        paragraph(one_of(rng, f"`python3 check.py` in the repository {repo} used to pass, but now it fails.",
                         f"Something in the history of {repo} broke `python3 check.py`, which passed before.",
                         f"The checks of {repo} (`python3 check.py`, run in the repository) fail on `main`."),
                  one_of(rng, "One commit, not the latest, introduced the problem.",
                         "The culprit is a single commit somewhere in the history of `main`.")),
        paragraph(one_of(rng, "Find that commit and undo it with a revert commit on top of `main`",
                         "Track down the commit responsible and revert it: add a new commit on `main` that undoes it"),
                  "(do not rewrite, reset or drop any existing commit, and do not fix the code by hand).",
                  "The revert must undo the whole of that commit." if difficulty == "hard" else "",
                  message_words, "Leave the working tree clean."),
    ]
    solution = "\n".join([
        f"cd {repo}", "export PYTHONDONTWRITEBYTECODE=1",
        "git bisect start main \"$(git rev-list --max-parents=0 main)\"",
        "git bisect run python3 check.py",
        "bad=$(git rev-parse refs/bisect/bad)", "git bisect reset > /dev/null",
        "git log -1 --format=%s \"$bad\"",
        "git revert --no-edit \"$bad\"" if not custom else
        f"git revert --no-edit \"$bad\"\ngit commit -q --amend -m {shlex.quote(subject)} -m \"This reverts commit $bad.\"",
        "python3 check.py"])
    tests = TEST_PRELUDE.format(repo=repo) + f'''

ORIGINAL = {original!r}
BAD = {bad!r}
EXPECTED = {expected!r}


def test_the_history_is_kept_and_one_commit_is_added_on_main():
    assert git("symbolic-ref", "--short", "HEAD").strip() == "main"
    assert log("main~1") == ORIGINAL, "main is not the old history plus one commit"
    assert len(git("rev-list", "--parents", "-n1", "main").split()) == 2, "the new commit is not a plain commit"


def test_the_new_commit_reverts_the_breaking_one():
    message = git("log", "-1", "--format=%B", "main")
    assert message.splitlines()[0] == {subject!r}
    assert "This reverts commit " + hash_of("main", *BAD) in message


def test_the_files_are_those_before_the_breaking_change():
    for path, text in EXPECTED.items():
        assert show("main", path) == text, path


def test_the_checks_pass():
    done = subprocess.run(["python3", "check.py"], cwd=REPO, capture_output=True, text=True, timeout=30,
                          env={{**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}})
    assert done.returncode == 0, done.stdout
'''
    return GeneratedTask(
        family="git-revert", category="git", difficulty=difficulty, instruction=instruction(*asks), files={},
        setup=history.script(), solution=solution, tests=tests, tags=["git", "revert", "bisect"])


FAMILIES = [
    Family("git-revert", "git", generate_git_revert,
           "find the commit that broke the checks and revert it with a revert commit"),
]
