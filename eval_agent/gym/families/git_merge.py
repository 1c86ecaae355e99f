"""git: merge a feature branch into main with conflicts, resolved by a stated rule; a merge commit
with two parents."""

from __future__ import annotations

import random
import shlex

from ..phrasing import COMPONENTS, FIRST_NAMES, NOUNS, bullets, instruction, one_of, paragraph, sample, slug
from ..spec import Family, GeneratedTask
from .git_ops import END, TEST_PRELUDE, TOPICS, History, work_commit


PACKAGES = ["requests", "flask", "click", "rich", "pyyaml", "attrs", "httpx", "jinja2", "sqlalchemy", "tqdm",
            "redis", "celery", "uvicorn", "lxml", "boto3", "pydantic", "orjson", "structlog", "tenacity", "arrow"]
LISTS = {  # file -> (what its lines are, how to make one)
    "requirements.txt": ("the requirements", lambda rng: f"{rng.choice(PACKAGES)}=={rng.randint(1, 9)}.{rng.randint(0, 20)}"),
    "CONTRIBUTORS": ("the contributors", lambda rng: f"{rng.choice(FIRST_NAMES)} {rng.choice(NOUNS).capitalize()}"),
    "allowed_hosts.txt": ("the allowed hosts", lambda rng: f"{rng.choice(NOUNS)}-{rng.randint(1, 99)}.example.com"),
}
INI_KEYS = ["timeout", "workers", "max_connections", "retry_delay", "queue_size"]


def generate_git_merge_resolve(rng: random.Random, difficulty: str) -> GeneratedTask:
    project, package = slug(rng, "-"), rng.choice(NOUNS)
    repo, feature = f"/app/{project}", f"feature/{slug(rng, '-')}"
    history = History(rng, repo)
    list_file = rng.choice(sorted(LISTS))
    what, make = LISTS[list_file]
    items: list[str] = []
    while len(items) < 12:  # distinct lines for the base and both sides
        line = make(rng)
        if line not in items and line.split("==")[0] not in [i.split("==")[0] for i in items]:
            items.append(line)
    base_list, ours_add, theirs_add = sorted(items[:4]), items[4:6 + (difficulty == "hard")], items[8:10]
    if difficulty == "hard":  # both sides add one same line: the merged list has it once
        theirs_add.append(ours_add[-1])
    key = rng.choice(INI_KEYS)
    base_value = rng.randint(2, 30)
    ours_value, theirs_value = base_value + rng.randint(1, 20), base_value + rng.randint(21, 40)

    def ini(value: int, level: str = "info") -> str:
        lines = [f"{k} = {value if k == key else (i + 1) * 5}" for i, k in enumerate(INI_KEYS)]
        return "\n".join(["[server]", *lines, "", "[logging]", f"level = {level}", "format = plain",
                          f"file = /var/log/{project}.log"]) + "\n"

    def defaults(backend: str, retries: int, color: str) -> str:
        return f'"""Default settings for {package}."""\n\nNAME = "{package}"\nBACKEND = "{backend}"\n' \
               f'RETRIES = {retries}\nCOLOR = "{color}"\n'

    defaults_path = f"{package}/defaults.py"
    history.commit("Initial commit", {"README.md": f"# {project}\n", list_file: "\n".join(base_list) + "\n",
                                      "settings.ini": ini(base_value), defaults_path: defaults("sqlite", 3, "blue")})
    work_commit(history, package)
    kinds = sample(rng, ["list", "ini", "defaults"], {"easy": 1, "medium": 2, "hard": 3}[difficulty])
    history.branch_off(feature)
    module = f"{package}/{rng.choice(COMPONENTS)}_{rng.choice(NOUNS)}.py"
    history.commit(f"Add {module}", {module: f'"""New in {feature}."""\n\nENABLED = True\n'})
    if "list" in kinds:
        history.commit(f"Add to {list_file}", {list_file: "\n".join(base_list + theirs_add) + "\n"})
    if "ini" in kinds:
        history.commit(f"Raise {key} to {theirs_value}", {"settings.ini": ini(theirs_value)})
    if "defaults" in kinds:
        history.commit("Switch the backend to postgres", {defaults_path: defaults("postgres", 5, "blue")})
    history.switch("main")
    history.commit(history.subject(["Document"], TOPICS), {"README.md": f"# {project}\n\nSee settings.ini.\n"})
    if "list" in kinds:
        history.commit(f"Update {list_file}", {list_file: "\n".join(base_list + ours_add) + "\n"})
    if "ini" in kinds:  # hard: main also changes a line far from the conflict, which git merges itself
        history.commit(f"Set {key} to {ours_value}", {"settings.ini": ini(ours_value, "debug" if difficulty == "hard" else "info")})
    if "defaults" in kinds:
        history.commit("Use mysql and a red theme", {defaults_path: defaults("mysql", 3, "red")})

    expected = {**history.trees["main"], module: history.trees[feature][module]}
    rules = []
    if "list" in kinds:
        order = "sorted" if difficulty == "hard" else rng.choice(["ours", "theirs"])
        merged = {"ours": base_list + ours_add + theirs_add, "theirs": base_list + theirs_add + ours_add,
                  "sorted": sorted(set(base_list + ours_add + theirs_add))}[order]
        expected[list_file] = "\n".join(merged) + "\n"
        rules.append(f"`{list_file}`: keep {what} from both sides, " + {
            "ours": "in this order: the lines both had before, those added on main, those added on the branch.",
            "theirs": "in this order: the lines both had before, those added on the branch, those added on main.",
            "sorted": "every line once, in alphabetical order."}[order])
    if "ini" in kinds:
        final = rng.choice([max(ours_value, theirs_value) + rng.randint(1, 9) * 5, ours_value + theirs_value])
        expected["settings.ini"] = history.trees["main"]["settings.ini"].replace(f"{key} = {ours_value}", f"{key} = {final}")
        rules.append(f"`settings.ini`: both sides changed `{key}`; the merged file must say `{key} = {final}`"
                     + (", and keep every other change from both sides." if difficulty == "hard" else "."))
    if "defaults" in kinds:
        side = rng.choice(["theirs", "ours"])
        expected[defaults_path] = history.trees[feature if side == "theirs" else "main"][defaults_path]
        rules.append(f"`{defaults_path}`: " + one_of(rng, "take the version from {}.", "use {}'s version as it is.").format(
            f"the `{feature}` branch" if side == "theirs" else "`main`"))
    message = (one_of(rng, "Merge {} into main", "Merge branch '{}' (conflicts resolved)", "Integrate {}").format(feature)
               if difficulty == "hard" else f"Merge branch '{feature}'")
    asks = [
        paragraph(one_of(rng, f"In the git repository {repo}, merge the branch `{feature}` into `main`.",
                         f"`{feature}` in {repo} is ready: merge it into `main`.",
                         f"Please bring the work on `{feature}` into `main` ({repo} is the repository)."),
                  one_of(rng, "There will be conflicts; resolve them like this:",
                         "The merge conflicts. Resolve each file as follows:")),
        bullets(rules),
        paragraph("The result must be a merge commit on `main` whose parents are main's current commit and the tip of "
                  f"`{feature}`" + (f", with the message `{message}`." if difficulty == "hard" else "."),
                  "Everything else from both branches stays as git merges it; no conflict markers remain.",
                  one_of(rng, "Leave the working tree clean.", "Nothing may be left uncommitted.")),
    ]
    resolve = [line for kind, path in (("list", list_file), ("ini", "settings.ini")) if kind in kinds
               for line in (f"cat > {path} <<'{END}'", expected[path][:-1], END)]
    if "defaults" in kinds:
        resolve.append(f"git checkout --{side} -- {defaults_path}")
    solution = "\n".join([f"cd {repo}", "git switch -q main", f"git merge --no-ff {shlex.quote(feature)} || true",
                          *resolve, "git add -A", f"git commit -q -m {shlex.quote(message)}",
                          "git log --oneline --graph -8"])
    tests = TEST_PRELUDE.format(repo=repo) + f'''

MAIN_LOG = {history.logs["main"]!r}
FEATURE_LOG = {history.logs[feature]!r}
EXPECTED = {expected!r}


def test_main_has_a_merge_commit_of_both_tips():
    assert git("symbolic-ref", "--short", "HEAD").strip() == "main"
    assert len(git("rev-list", "--parents", "-n1", "main").split()) == 3, "main's tip is not a merge commit"
    assert log("main^1") == MAIN_LOG, "the first parent is not main's old tip"
    assert log("main^2") == FEATURE_LOG, "the second parent is not the feature branch's tip"


def test_the_merge_is_finished():
    assert subprocess.run(["git", "-C", REPO, "rev-parse", "-q", "--verify", "MERGE_HEAD"],
                          capture_output=True).returncode != 0, "the merge is still in progress"


def test_the_merged_files():
    assert sorted(git("ls-tree", "-r", "--name-only", "main").split()) == sorted(EXPECTED)
    for path, text in EXPECTED.items():
        assert show("main", path) == text, path
'''
    if difficulty == "hard":
        tests += f'''

def test_the_message():
    assert git("log", "-1", "--format=%s", "main").strip() == {message!r}
'''
    return GeneratedTask(
        family="git-merge-resolve", category="git", difficulty=difficulty, instruction=instruction(*asks), files={},
        setup=history.script(), solution=solution, tests=tests, tags=["git", "merge", "conflicts", *kinds])


FAMILIES = [
    Family("git-merge-resolve", "git", generate_git_merge_resolve,
           "merge a feature branch, resolving conflicts by stated rules, as a two-parent merge commit"),
]
