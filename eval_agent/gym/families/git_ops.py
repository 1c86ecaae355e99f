"""Git work in a repository with history: cut a release branch and tag it, revert the commit that
broke the checks, merge a feature branch resolving its conflicts by stated rules.

`setup` builds each repository at build time with fixed author and committer dates, so a seed
always gives the same commits. The tests find commits by subject and committer date (which an
agent's new commits do not repeat) and compare whole logs, so moved or rewritten history shows."""

from __future__ import annotations

import random
import re
import shlex
from datetime import datetime, timedelta

from ..phrasing import COMPONENTS, FIRST_NAMES, NOUNS, bullets, instruction, one_of, paragraph, slug
from ..spec import Family, GeneratedTask


END = "GYM_FILE_END"  # heredoc delimiter of the setup script; no generated file has this line
VERBS = ["Add", "Fix", "Refactor", "Document", "Speed up", "Clean up", "Rework", "Simplify", "Harden", "Test"]
TOPICS = ["retry logic", "error messages", "config loading", "logging", "input checks", "timeouts",
          "the cache", "startup", "shutdown", "date parsing", "pagination", "the CLI"]

TEST_PRELUDE = '''import os
import subprocess

REPO = {repo!r}


def git(*args):
    done = subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, "git " + " ".join(args) + ": " + done.stderr.strip()
    return done.stdout


def log(ref):
    """[subject, committer date] of each commit from ref back, newest first."""
    return [line.split("\\x00") for line in git("log", "--format=%s%x00%cI", ref).splitlines()]


def hash_of(ref, subject, date):
    for line in git("log", "--format=%H%x00%s%x00%cI", ref).splitlines():
        if line.split("\\x00")[1:] == [subject, date]:
            return line.split("\\x00")[0]
    raise AssertionError("no commit " + repr(subject) + " in " + ref)


def show(ref, path):
    return git("show", ref + ":" + path)


def test_the_working_tree_is_clean():
    assert git("status", "--porcelain") == "", "uncommitted changes or stray files are left"
'''


class History:
    """A repository's history written as bash for `setup`, with each branch's files and log kept
    here as well, so that a family knows what every commit holds."""

    def __init__(self, rng: random.Random, path: str):
        self.rng, self.path, self.branch = rng, path, "main"
        self.when = datetime(rng.randint(2020, 2024), rng.randint(1, 12), rng.randint(1, 28), rng.randint(7, 11))
        author = rng.choice(FIRST_NAMES)
        self.trees: dict[str, dict[str, str]] = {"main": {}}
        self.logs: dict[str, list[list[str]]] = {"main": []}  # newest first: [subject, date]
        self.snapshots: dict[str, dict[str, str]] = {}  # subject -> the files of that commit
        self.subjects: set[str] = set()
        self.lines = ["set -euo pipefail", f"mkdir -p {path}", f"cd {path}", "git init -q -b main",
                      f"git config user.name {author}", f"git config user.email {author.lower()}@example.com"]

    def _tick(self) -> str:
        self.when += timedelta(minutes=self.rng.randint(17, 1400))
        return self.when.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def commit(self, subject: str, changes: dict[str, str]) -> list[str]:
        date, tree = self._tick(), self.trees[self.branch]
        for name, text in sorted(changes.items()):
            assert text.endswith("\n") and END not in text
            tree[name] = text
            quoted = shlex.quote(name)
            self.lines += [f"mkdir -p \"$(dirname {quoted})\"", f"cat > {quoted} <<'{END}'", text[:-1], END]
        self.lines += ["git add -A", f"GIT_AUTHOR_DATE={date} GIT_COMMITTER_DATE={date} git commit -q -m {shlex.quote(subject)}"]
        self.logs[self.branch].insert(0, [subject, date])
        self.snapshots[subject] = dict(tree)
        self.subjects.add(subject)
        return [subject, date]

    def subject(self, *pools: list[str]) -> str:
        """A commit subject not used yet in this repository."""
        while True:
            text = " ".join(self.rng.choice(pool) for pool in pools)
            if text not in self.subjects:
                return text

    def tag(self, name: str, message: str | None) -> None:
        annotate = f"-a -m {shlex.quote(message)} " if message else ""
        self.lines.append(f"GIT_COMMITTER_DATE={self._tick()} git tag {annotate}{shlex.quote(name)}")

    def branch_off(self, name: str) -> None:
        self.lines.append(f"git switch -q -c {shlex.quote(name)}")
        self.trees[name], self.logs[name] = dict(self.trees[self.branch]), list(self.logs[self.branch])
        self.branch = name

    def switch(self, name: str) -> None:
        self.lines.append(f"git switch -q {shlex.quote(name)}")
        self.branch = name

    def script(self) -> str:
        return "\n".join(self.lines + ["git switch -q main"]) + "\n"


def work_commit(history: History, package: str) -> None:
    """An ordinary commit: a new function in a module of the package, or a line in the README."""
    tree = history.trees[history.branch]
    subject = history.subject(VERBS, TOPICS) + one_of(history.rng, "", f" in {package}", " (#" + str(history.rng.randint(10, 400)) + ")")
    if history.rng.random() < 0.3:
        history.commit(subject, {"README.md": tree["README.md"] + f"- {subject.lower()}\n"})
        return
    module = f"{package}/{history.rng.choice(COMPONENTS)}.py"
    function = f"def {history.rng.choice(NOUNS)}_{len(history.subjects)}():\n    return {history.rng.randint(1, 999)}\n"
    history.commit(subject, {module: tree.get(module, f'"""{module}."""\n') + "\n\n" + function})


# -- git-release ---------------------------------------------------------------------------------------
def generate_git_release(rng: random.Random, difficulty: str) -> GeneratedTask:
    project, package = slug(rng, "-"), rng.choice(NOUNS)
    repo = f"/app/{project}"
    history = History(rng, repo)
    major, minor = rng.randint(0, 3), rng.randint(1, 6)
    start = {"README.md": f"# {project}\n\nNotes:\n", "VERSION": f"{major}.{minor}.0\n", ".gitignore": "__pycache__/\n"}
    if difficulty == "hard":
        start["pyproject.toml"] = f'[project]\nname = "{project}"\nversion = "{major}.{minor}.0"\nrequires-python = ">=3.9"\n'
    history.commit("Initial commit", start)
    tag_style = rng.choice(["v{}", "{}", "release-{}"])
    releases = []  # (version, tag name, [subject, date] of its commit)
    for _ in range({"easy": 1, "medium": 2, "hard": 3}[difficulty]):
        for _ in range(rng.randint(1, 3)):
            work_commit(history, package)
        minor += 1
        version = f"{major}.{minor}.0"
        bump = {"VERSION": version + "\n"}
        if difficulty == "hard":
            bump["pyproject.toml"] = re.sub(r'^version = ".*"$', f'version = "{version}"',
                                            history.trees["main"]["pyproject.toml"], flags=re.MULTILINE)
        releases.append((version, tag_style.format(version), history.commit(f"Release {version}", bump)))
        history.tag(tag_style.format(version), f"Version {version}" if rng.random() < 0.5 else None)
    for _ in range(rng.randint(1, 3)):
        work_commit(history, package)

    # where the branch starts: main's tip, an earlier commit named by subject, or a release tag (a hotfix)
    point = "tip" if difficulty == "easy" else rng.choice(["subject", "tag"])
    main_log = history.logs["main"]
    if point == "tip":
        base, version, base_ref = main_log[0], f"{major}.{minor + 1}.0", "main"
        where = one_of(rng, "at the current tip of `main`", "from the commit `main` points to now")
    elif point == "subject":
        base, version, base_ref = rng.choice(main_log[1:-1]), f"{major}.{minor + 1}.0", '"$base"'
        where = f"at the commit whose message is `{base[0]}` (what came after it is not ready to ship)"
    else:
        old_version, old_tag, base = rng.choice(releases)
        version, base_ref = old_version[:-1] + "1", shlex.quote(old_tag)
        where = f"at the existing tag `{old_tag}` (this is a hotfix release of that version)"
    tag = tag_style.format(version)
    branch = rng.choice([style.format(version) for style in (("release/{}", "release-{}", "rel/{}") if point != "tag"
                                                             else ("hotfix/{}", "hotfix-{}")) if style != tag_style])
    message = one_of(rng, "Release {}", "Prepare release {}", "Bump version to {}", "chore(release): {}").format(version)
    notes_source = one_of(rng, "release-notes.md", "NOTES.md", f"notes-{version}.md")
    notes_target = one_of(rng, "docs/releases/{}.md", "release-notes/{}.md", "changes/{}.md").format(version)
    notes = "\n".join([f"# {project} {version}", ""] + [f"- {history.subject(VERBS, TOPICS).lower()}"
                                                        for _ in range(rng.randint(2, 5))]) + "\n"
    annotated = rng.random() < 0.6 if difficulty != "hard" else True
    tag_message = one_of(rng, "{} {}", "Release {1}", "{0} version {1}").format(project, version) if annotated else ""
    release_author = (f"{rng.choice(FIRST_NAMES)} {rng.choice(['Builder', 'Release', 'Ops'])}",
                      f"release+{rng.randint(10, 99)}@{project}.example.org") if difficulty == "hard" else None

    expected = dict(history.snapshots[base[0]])
    changed = {"VERSION": version + "\n", notes_target: notes}
    if difficulty == "hard":
        changed["pyproject.toml"] = re.sub(r'^version = ".*"$', f'version = "{version}"', expected["pyproject.toml"],
                                           flags=re.MULTILINE)
    base_log = history.logs["main"][main_log.index(base):]

    tag_words = (f"an annotated tag `{tag}` with the message `{tag_message}`" if annotated
                 else f"a lightweight tag `{tag}` (not an annotated one)")
    steps = [f"Create the branch `{branch}` {where}.",
             f"On it, make a single commit with the message `{message}` that sets VERSION to `{version}`"
             + (f" and the `version` in pyproject.toml to `\"{version}\"`" if difficulty == "hard" else "")
             + f", and adds the release notes from /app/{notes_source} as `{notes_target}` (same contents). "
             "Nothing else changes in that commit.",
             f"Tag that commit with {tag_words}."]
    if release_author:
        steps.append(f"The release commit's author must be `{release_author[0]} <{release_author[1]}>`.")
    steps.append(one_of(rng, "`main` must still point where it points now; leave the working tree clean.",
                        "Do not move `main` or rewrite any existing commit, and leave nothing uncommitted."))
    intro = one_of(rng, f"We are cutting release {version} of {project}, whose repository is {repo}.",
                   f"The git repository at {repo} needs a {version} release.",
                   f"Time to ship {project} {version}. The code is in the git repository {repo}.")
    asks = [paragraph(intro, one_of(rng, "Here is what to do:", "Please:", "Steps:")), bullets(steps)]

    solution = "\n".join([
        f"cd {repo}",
        f"base=$(git log main --format='%H%x09%s' | awk -F'\\t' -v s={shlex.quote(base[0])} '$2 == s {{print $1}}')"
        if point == "subject" else "",
        f"git switch -q -c {shlex.quote(branch)} {base_ref}",
        f"printf '%s\\n' {version} > VERSION",
        f"sed -i 's/^version = .*/version = \"{version}\"/' pyproject.toml" if difficulty == "hard" else "",
        f"mkdir -p {shlex.quote(notes_target.rsplit('/', 1)[0])} && cp /app/{notes_source} {shlex.quote(notes_target)}",
        "git add -A",
        f"git commit -q -m {shlex.quote(message)}"
        + (f" --author={shlex.quote(f'{release_author[0]} <{release_author[1]}>')}" if release_author else ""),
        f"git tag -a {shlex.quote(tag)} -m {shlex.quote(tag_message)}" if annotated else f"git tag {shlex.quote(tag)}",
        "git switch -q main", "git log --oneline --graph --all --decorate | head -20"])
    tests = TEST_PRELUDE.format(repo=repo) + f'''

BRANCH, TAG, MESSAGE = {branch!r}, {tag!r}, {message!r}
MAIN_LOG = {main_log!r}
BASE_LOG = {base_log!r}
CHANGED = {changed!r}


def test_main_did_not_move():
    assert log("main") == MAIN_LOG


def test_the_branch_is_one_commit_on_the_starting_point():
    assert log(BRANCH + "~1") == BASE_LOG, "the branch does not start where it should"
    assert log(BRANCH)[0][0] == MESSAGE


def test_the_release_commit_changes_exactly_the_release_files():
    assert sorted(git("diff", "--name-only", BRANCH + "~1", BRANCH).split()) == sorted(CHANGED)
    for path, text in CHANGED.items():
        assert show(BRANCH, path).rstrip("\\n") == text.rstrip("\\n"), path


def test_the_tag():
    assert git("cat-file", "-t", TAG).strip() == {"tag" if annotated else "commit"!r}
    assert git("rev-parse", TAG + "^{{commit}}") == git("rev-parse", BRANCH)
'''
    if annotated:
        tests += f'''    assert git("for-each-ref", "--format=%(contents)", "refs/tags/" + TAG).strip() == {tag_message!r}
'''
    if release_author:
        tests += f'''

def test_the_author():
    assert git("log", "-1", "--format=%an <%ae>", BRANCH).strip() == {f"{release_author[0]} <{release_author[1]}>"!r}
'''
    return GeneratedTask(
        family="git-release", category="git", difficulty=difficulty, instruction=instruction(*asks),
        files={notes_source: notes}, setup=history.script(), solution=solution, tests=tests,
        tags=["git", "branch", "tag", point])


FAMILIES = [
    Family("git-release", "git", generate_git_release,
           "branch from a given commit or tag, commit release changes, tag it; main stays put"),
]
