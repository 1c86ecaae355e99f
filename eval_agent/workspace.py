"""The user's folder under git: a snapshot of the user's work, one commit per agent step, undo, diff.

Every git command runs through a GitRunner: in the git box (a container of its own, see
sandbox/git_box.py) when the sandbox is Docker, so that nothing the sandbox wrote into the
repository (config, attributes, hooks) is obeyed on the host. The host itself only looks at the
workspace without following links (repo_layout.py). Commands go through the git CLI, so
.gitignore, index formats and the rest behave exactly as the user's own git would.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EnvironmentProblem, UsageError
from .git_runner import GitRunner
from .repo_layout import RepoLayout, entry_kind, entry_stat, locate

log = logging.getLogger(__name__)

AGENT_NAME, AGENT_EMAIL = "eval-agent", "eval-agent@localhost"
SNAPSHOT_SUBJECT = "eval-agent: snapshot of your uncommitted changes before the request"
MAX_FILE_BYTES = 50 * 1024 * 1024
# Unmerged index states in `git status --porcelain` (a conflict left by merge, stash pop, ...).
UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}
# Files in the git dir that mean an operation is half done; committing on top would tangle it.
IN_PROGRESS = {
    "MERGE_HEAD": ("a merge", "git merge --continue", "git merge --abort"),
    "rebase-merge": ("a rebase", "git rebase --continue", "git rebase --abort"),
    "rebase-apply": ("a rebase or am", "git rebase --continue", "git rebase --abort"),
    "CHERRY_PICK_HEAD": ("a cherry-pick", "git cherry-pick --continue", "git cherry-pick --abort"),
    "REVERT_HEAD": ("a revert", "git revert --continue", "git revert --abort"),
}
# Runs before every git command of eval-agent's: whatever filter drivers the repository defines
# (the agent may have set some) are switched off, so a checkpoint stores the files exactly as they
# are in the folder, and no filter program runs, not even in the git box (nor stops a commit there
# for want of its program, as a missing git-lfs would).
NO_FILTERS = """n=${GIT_CONFIG_COUNT:-0}
while IFS= read -r -d '' key; do
  export "GIT_CONFIG_KEY_$n=$key" "GIT_CONFIG_VALUE_$n="; n=$((n + 1))
done < <(git config -z --name-only --get-regexp '^filter[.].*[.](clean|smudge|process)$' 2>/dev/null)
export GIT_CONFIG_COUNT=$n
"""
# The changed paths come on stdin, NUL-separated, each marked G (gone from the folder: its entry is
# removed) or K (kept: staged as it is now, a link as a link). Plumbing, not `git add`: a path
# beyond a link (d/f.txt once d became a link) is a removal here, where `add` refuses the pathspec.
# `stage` puts them into the index named by $GIT_INDEX_FILE, on top of HEAD in a scratch index.
STAGE = """gone=$(mktemp) && kept=$(mktemp) && scratch=$(mktemp) || exit 1
trap 'rm -f "$gone" "$kept" "$scratch"' EXIT
while IFS= read -r -d '' record; do
  case $record in G*) printf '%s\\0' "${record#?}" >> "$gone" ;; *) printf '%s\\0' "${record#?}" >> "$kept" ;; esac
done
stage() {
  git update-index -z --force-remove --stdin < "$gone" && git update-index -z --add --remove --replace --stdin < "$kept"
}
GIT_INDEX_FILE=$scratch git read-tree HEAD && GIT_INDEX_FILE=$scratch stage || exit 1
tree=$(GIT_INDEX_FILE=$scratch git write-tree) || exit 1
"""
# A commit of exactly those paths on top of HEAD (what `git commit --only PATHS` makes), then the
# real index follows for them; whatever else the user staged stays staged. Prints the commit.
COMMIT_SCRIPT = STAGE + """parent=$(git rev-parse HEAD) && commit=$(git commit-tree "$tree" -p "$parent" -m "$1" -m "$2") || exit 1
git update-ref -m "commit: $1" HEAD "$commit" "$parent" && stage && echo "$commit"
"""
# A tree of the folder as it is now (for diffs), the real index untouched. Prints the tree.
WORKTREE_TREE_SCRIPT = STAGE + 'echo "$tree"\n'


@dataclass
class PrepareResult:
    initialized: bool  # True when we ran `git init` or made the first commit of an empty history
    snapshot_commit: str | None  # the commit holding the user's uncommitted work, if there was any
    head: str | None  # None when the workspace is not under eval-agent's git (see Workspace.disabled)
    skipped_large: list[str] = field(default_factory=list)  # paths not committed: too big


@dataclass
class UndoResult:
    commit: str  # the agent commit that was undone
    message: str  # its subject line
    files: list[str]  # paths (relative to the workspace folder) put back as they were before it


class Workspace:
    def __init__(self, path: Path, run_id: str = "", *, runner: GitRunner, layout: RepoLayout | None = None,
                 max_file_bytes: int = MAX_FILE_BYTES):
        self.path = Path(path).expanduser().resolve()
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.runner = runner
        self.layout = layout
        self.max_file_bytes = max_file_bytes
        self.skipped_large: list[str] = []  # every path ever left out for size, noted once each
        self.base: str | None = None
        self.disabled = ""  # why steps are not committed here (a .git that is a link, say); "" when they are
        self._agent_commits: list[str] = []  # this session's step commits, oldest first
        self._ready = False

    # ---- public API -------------------------------------------------------------------------

    def prepare(self) -> PrepareResult:
        if not self.path.is_dir():
            raise UsageError(f"workspace {self.path} is not a folder")
        self.layout = self.layout or locate(self.path)
        if self.layout.refused:
            self.disabled = (f"steps are not committed in {self.path}: {self.layout.refused}; /undo and /diff "
                             "are off (remove the link, or run eval-agent in the repository's own folder)")
            self._ready = True
            return PrepareResult(False, None, None)
        initialized = self._open_or_init()
        self._ready = True
        self._refuse_if_in_progress()
        if self._git("rev-parse", "--verify", "-q", "HEAD", check=False).code != 0:
            self._initial_commit()  # an unborn branch: HEAD must exist for diff and undo
            initialized = True
        skipped_before = len(self.skipped_large)
        snapshot, head = self._snapshot_user_changes()
        return PrepareResult(initialized, snapshot, head, self.skipped_large[skipped_before:])

    def begin_request(self) -> str | None:
        # The user may have edited between requests: keep that out of the agent's first step too.
        if not self._ready:
            self.base = self.prepare().head
        elif not self.disabled:
            self._refuse_if_in_progress()
            self.base = self._snapshot_user_changes()[1]
        else:
            self.base = None
        return self.base

    def commit_step(self, step: int, description: str) -> str | None:
        if self.disabled:
            return None
        changes = self._changes()  # the fast path: one `git status` when nothing changed
        if not changes:
            return None
        self._refuse_if_in_progress()
        summary = " ".join(description.split())[:72] or "changes"
        sha = self._commit(changes, f"eval-agent step {step}: {summary}", self._agent_identity())
        if sha:
            self._agent_commits.append(sha)
        return sha

    def undo(self) -> UndoResult:
        self._require_repo()
        if not self._agent_commits:
            raise UsageError("nothing to undo: eval-agent has made no commit in this session")
        last, head = self._agent_commits[-1], self.head
        if head != last:
            subject = self._subject(head)
            raise UsageError(f"cannot undo: the last commit ({head[:8]} {subject!r}) is not eval-agent's; "
                             "undo only reverts eval-agent's own last step")
        self._refuse_if_in_progress()
        dirty = [path for path, _ in self._changes() if path not in self.skipped_large]
        if dirty:
            shown = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
            raise UsageError(f"cannot undo: files changed since eval-agent's last step ({shown}); "
                             "commit or discard those changes first")
        parent = f"{last}~1"
        files = self._git("diff", "--name-only", "-z", "--no-renames", *self._relative(), parent, last, "--",
                          self._spec).out
        # A hard reset, confined to the workspace folder so the rest of an enclosing repo is untouched:
        # move HEAD back, then make index and work tree match the parent (deleting files it lacks).
        self._git("reset", "-q", "--soft", parent)
        self._git("restore", f"--source={parent}", "--staged", "--worktree", "--", self._spec)
        self._agent_commits.pop()
        return UndoResult(last, self._subject(last), [f for f in files.split("\0") if f])

    def diff(self, since: str | None = None) -> str:
        """Unified diff from the request base (or `since`) to the work tree, new files included."""
        self._require_repo()
        return self._git("diff", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/",
                         "--dst-prefix=b/", *self._relative(), self._since(since), self._worktree_tree(), "--",
                         self._spec).out

    def changed_files(self, since: str | None = None) -> list[str]:
        self._require_repo()
        out = self._git("diff", "--name-only", "-z", "--no-renames", *self._relative(),
                        self._since(since), self._worktree_tree(), "--", self._spec).out
        return [f for f in out.split("\0") if f]

    @property
    def head(self) -> str:
        return self._git("rev-parse", "HEAD").out.strip()

    # ---- repository discovery ---------------------------------------------------------------

    def _open_or_init(self) -> bool:
        """Use the repo holding the folder (limited to the folder's pathspec), or make one."""
        layout = self.layout
        if layout.git_dir is not None:
            # A folder the enclosing repo ignores (a dotfiles repo in $HOME, say) gets its own repo.
            if layout.work_tree == self.path or not self._ignored_by_enclosing_repo():
                return False
        if entry_kind(self.path, ".git") != "missing":
            raise UsageError(f"{self.path}/.git is in the way of a repository of the folder's own")
        self._script('exec git init -q', cwd=self.path, repo=False)
        self.layout = RepoLayout(self.path, self.path, self.path / ".git")
        return True

    def _ignored_by_enclosing_repo(self) -> bool:
        # check-ignore rejects the 'literal' pathspec magic that every other command here runs with.
        return self._git("check-ignore", "-q", self._spec, check=False,
                         env={"GIT_LITERAL_PATHSPECS": "0"}).code == 0

    def _refuse_if_in_progress(self) -> None:
        git_dir = self.layout.git_dir
        for name, (what, cont, abort) in IN_PROGRESS.items():
            if entry_kind(git_dir, name) != "missing":
                raise UsageError(f"the repository at {self.layout.work_tree} is in the middle of {what}; "
                                 f"finish it ({cont}) or abort it ({abort}), then try again")

    # ---- commits ----------------------------------------------------------------------------

    def _changes(self) -> list[tuple[str, bool]]:
        """(path, gone) for each path under the folder that differs from HEAD, minus files too big
        to keep; gone: nothing is at that path now (or only beyond a link)."""
        return self._head_and_changes(with_head=False)[1]

    def _head_and_changes(self, with_head: bool = True) -> tuple[str, list[tuple[str, bool]]]:
        """HEAD and _changes(), in one round trip to the git box."""
        status = 'exec git status --porcelain=v1 -z --untracked-files=all --ignore-submodules=all -- "$1"'
        done = self._script(("git rev-parse HEAD && " if with_head else "") + status, self._spec)
        head, out = done.out.split("\n", 1) if with_head else ("", done.out)
        fields, paths, i = out.split("\0"), [], 0
        while i < len(fields):
            entry, i = fields[i], i + 1
            if len(entry) < 4:
                continue
            code, path = entry[:2], entry[3:]
            if code in UNMERGED:
                raise UsageError(f"{path} has an unresolved conflict; resolve it and commit, then try again")
            if code[0] in "RC":  # a staged rename or copy: the next field is the old path
                paths.append(fields[i])
                i += 1
            paths.append(path.rstrip("/"))  # an untracked nested repository ends with a slash
        changes = []
        for path in paths:
            found = entry_stat(self.layout.work_tree, path)  # no link followed on the host
            if found is not None and self._too_big(path, found):
                continue
            changes.append((path, found is None))
        return head, changes

    def _too_big(self, path: str, found: os.stat_result) -> bool:
        if not stat.S_ISREG(found.st_mode) or found.st_size <= self.max_file_bytes:
            return False
        if path not in self.skipped_large:
            self.skipped_large.append(path)
            log.warning("not committing %r: %d MB is over the %d MB limit", path, found.st_size >> 20,
                        self.max_file_bytes >> 20)  # %r: a file name may hold control characters
        return True

    def _commit(self, changes: list[tuple[str, bool]], subject: str, identity: dict[str, str]) -> str | None:
        if not changes:
            return None
        done = self._script(COMMIT_SCRIPT, subject, f"Eval-Agent-Run: {self.run_id}", input=_records(changes),
                            env=identity)
        return done.out.strip() or None

    def _snapshot_user_changes(self) -> tuple[str | None, str]:
        """Commits what the user changed, if anything; returns that commit and HEAD after it."""
        head, changes = self._head_and_changes()
        if not changes:  # the usual case, one round trip to the git box: no identity to look up
            return None, head
        commit = self._commit(changes, SNAPSHOT_SUBJECT, self._user_identity())
        return commit, commit or self.head

    def _initial_commit(self) -> None:
        # Plumbing, so whatever the user staged in an unborn repo stays theirs for the snapshot.
        empty_tree = self._git("hash-object", "-t", "tree", "-w", "--stdin", input=b"").out.strip()
        sha = self._git("commit-tree", empty_tree, "-m", "eval-agent: initialize repository",
                        "-m", f"Eval-Agent-Run: {self.run_id}", env=self._agent_identity()).out.strip()
        self._git("update-ref", "HEAD", sha)

    def _agent_identity(self) -> dict[str, str]:
        return _identity(AGENT_NAME, AGENT_EMAIL)

    def _user_identity(self) -> dict[str, str]:
        """The user's configured name and email when both are known, else the agent's."""
        def lookup(env_key: str, config_key: str) -> str:
            return (os.environ.get(env_key) or self._git("config", "--get", config_key, check=False).out.strip()
                    or _host_global_config(config_key))
        name, email = lookup("GIT_AUTHOR_NAME", "user.name"), lookup("GIT_AUTHOR_EMAIL", "user.email")
        return _identity(name, email) if name and email else self._agent_identity()

    def _subject(self, commit: str) -> str:
        return self._git("log", "-1", "--format=%s", commit).out.strip()

    # ---- diff helpers -----------------------------------------------------------------------

    def _since(self, since: str | None) -> str:
        return since or self.base or self.head

    def _relative(self) -> tuple[str, ...]:
        return () if self._spec == "." else (f"--relative={self._spec}",)

    def _worktree_tree(self) -> str:
        """A tree of the work tree as it is now, built in a scratch index so the real one is untouched."""
        return self._script(WORKTREE_TREE_SCRIPT, input=_records(self._changes())).out.strip()

    # ---- running git --------------------------------------------------------------------------

    @property
    def _spec(self) -> str:
        return self.layout.spec

    def _require_repo(self) -> None:
        if not self._ready:
            raise UsageError("the workspace is not prepared yet (call prepare() first)")
        if self.disabled:
            raise UsageError(self.disabled)

    def _repo_env(self) -> dict[str, str]:
        layout, runner = self.layout, self.runner
        return {"GIT_DIR": runner.path(layout.git_dir), "GIT_WORK_TREE": runner.path(layout.work_tree)}

    def _git(self, *args: str, check: bool = True, env: dict[str, str] | None = None, input: bytes | None = None):
        done = self._script('exec git "$@"', *args, env=env, input=input, check=False)
        if check and done.code != 0:
            _failed(f"git {args[0]}", done)
        return done

    def _script(self, script: str, *args: str, env: dict[str, str] | None = None, input: bytes | None = None,
                check: bool = True, cwd: Path | None = None, repo: bool = True):
        done = self.runner.run(["bash", "-c", NO_FILTERS + script, "bash", *args], cwd=cwd or self.layout.work_tree,
                               env={**(self._repo_env() if repo else {}), **(env or {})}, input=input)
        if check and done.code != 0:
            _failed("git", done)
        return done


def _records(changes: list[tuple[str, bool]]) -> bytes:
    """The changes as STAGE reads them: G or K, the path, NUL."""
    return "".join(f"{'G' if gone else 'K'}{path}\0" for path, gone in changes).encode("utf-8", "surrogateescape")


def _failed(what: str, done) -> None:
    detail = done.err.strip().splitlines()[-1] if done.err.strip() else f"exit code {done.code}"
    raise EnvironmentProblem(f"{what} failed in the workspace: {detail}")


def _host_global_config(key: str) -> str:
    """The user's own git identity from their global config on this machine (never the workspace's:
    run outside it, reading no repository)."""
    try:
        done = subprocess.run(["git", "config", "--global", "--get", key], cwd="/", capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _identity(name: str, email: str) -> dict[str, str]:
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
