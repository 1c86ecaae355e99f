"""The user's folder under git: a snapshot of the user's work, one commit per agent step, undo, diff.

Commands go through the git CLI (GitPython's `repo.git`) rather than GitPython's pure-Python index,
so .gitignore, attributes, hooks-off and index formats behave exactly as the user's own git would.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import git

from eval_agent.errors import UsageError

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


@dataclass
class PrepareResult:
    initialized: bool  # True when we ran `git init` or made the first commit of an empty history
    snapshot_commit: str | None  # the commit holding the user's uncommitted work, if there was any
    head: str
    skipped_large: list[str] = field(default_factory=list)  # paths not committed: too big


@dataclass
class UndoResult:
    commit: str  # the agent commit that was undone
    message: str  # its subject line
    files: list[str]  # paths (relative to the workspace folder) put back as they were before it


class Workspace:
    def __init__(self, path: Path, run_id: str = "", *, max_file_bytes: int = MAX_FILE_BYTES):
        self.path = Path(path).expanduser().resolve()
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.max_file_bytes = max_file_bytes
        self.skipped_large: list[str] = []  # every path ever left out for size, noted once each
        self.base: str | None = None
        self._agent_commits: list[str] = []  # this session's step commits, oldest first
        self._repo: git.Repo | None = None

    # ---- public API -------------------------------------------------------------------------

    def prepare(self) -> PrepareResult:
        if not self.path.is_dir():
            raise UsageError(f"workspace {self.path} is not a folder")
        initialized = self._open_or_init()
        self._refuse_if_in_progress()
        if not self._git("rev-parse", "--verify", "-q", "HEAD", with_exceptions=False):
            self._initial_commit()  # an unborn branch: HEAD must exist for diff and undo
            initialized = True
        skipped_before = len(self.skipped_large)
        snapshot = self._snapshot_user_changes()
        self._give_files_to_owner()
        return PrepareResult(initialized, snapshot, self.head, self.skipped_large[skipped_before:])

    def begin_request(self) -> str:
        # The user may have edited between requests: keep that out of the agent's first step too.
        if self._repo is None:
            self.prepare()
        else:
            self._refuse_if_in_progress()
            self._snapshot_user_changes()
        self.base = self.head
        return self.base

    def commit_step(self, step: int, description: str) -> str | None:
        paths = self._changed_paths()  # the fast path: one `git status` when nothing changed
        if not paths:
            return None
        self._refuse_if_in_progress()
        summary = " ".join(description.split())[:72] or "changes"
        sha = self._commit(paths, f"eval-agent step {step}: {summary}", self._agent_identity())
        if sha:
            self._agent_commits.append(sha)
            self._give_files_to_owner()
        return sha

    def undo(self) -> UndoResult:
        repo = self._require_repo()
        if not self._agent_commits:
            raise UsageError("nothing to undo: eval-agent has made no commit in this session")
        last, head = self._agent_commits[-1], self.head
        if head != last:
            subject = repo.commit(head).summary
            raise UsageError(f"cannot undo: the last commit ({head[:8]} {subject!r}) is not eval-agent's; "
                             "undo only reverts eval-agent's own last step")
        self._refuse_if_in_progress()
        dirty = [p for p in self._changed_paths() if p not in self.skipped_large]
        if dirty:
            shown = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
            raise UsageError(f"cannot undo: files changed since eval-agent's last step ({shown}); "
                             "commit or discard those changes first")
        parent = f"{last}~1"
        files = self._git("diff", "--name-only", "-z", *self._relative(), parent, last, "--", self._spec)
        # A hard reset, confined to the workspace folder so the rest of an enclosing repo is untouched:
        # move HEAD back, then make index and work tree match the parent (deleting files it lacks).
        self._git("reset", "-q", "--soft", parent)
        self._git("restore", f"--source={parent}", "--staged", "--worktree", "--", self._spec)
        self._agent_commits.pop()
        restored = [f for f in files.split("\0") if f]
        self._give_files_to_owner(restored)
        return UndoResult(last, repo.commit(last).summary, restored)

    def diff(self, since: str | None = None) -> str:
        """Unified diff from the request base (or `since`) to the work tree, new files included."""
        return self._git("diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/",
                         *self._relative(), self._since(since), self._worktree_tree(), "--", self._spec,
                         strip_newline_in_stdout=False)

    def changed_files(self, since: str | None = None) -> list[str]:
        out = self._git("diff", "--name-only", "-z", "--no-renames", *self._relative(),
                        self._since(since), self._worktree_tree(), "--", self._spec)
        return [f for f in out.split("\0") if f]

    @property
    def head(self) -> str:
        return self._git("rev-parse", "HEAD")

    # ---- repository discovery ---------------------------------------------------------------

    def _open_or_init(self) -> bool:
        """Use the repo holding the folder (limited to the folder's pathspec), or make one."""
        try:
            repo = git.Repo(self.path, search_parent_directories=True)
        except git.InvalidGitRepositoryError:
            repo = None
        if repo is not None and repo.working_tree_dir is not None:
            self._attach(repo)
            # A folder the enclosing repo ignores (a dotfiles repo in $HOME, say) gets its own repo.
            if self._spec == "." or not self._ignored_by_enclosing_repo():
                return False
        cmd = git.Git(str(self.path))
        cmd.update_environment(**self._env(self.path))
        cmd.init("-q")
        self._attach(git.Repo(self.path))
        return True

    def _ignored_by_enclosing_repo(self) -> bool:
        # check-ignore rejects the 'literal' pathspec magic that every other command here runs with.
        with self._repo.git.custom_environment(GIT_LITERAL_PATHSPECS="0"):
            status, _, _ = self._git("check-ignore", "-q", self._spec, with_exceptions=False,
                                     with_extended_output=True)
        return status == 0

    def _attach(self, repo: git.Repo) -> None:
        self._repo = repo
        self.root = Path(repo.working_tree_dir).resolve()
        rel = self.path.relative_to(self.root).as_posix()
        self._spec = rel if rel != "." else "."  # every add/commit/diff/status is limited to this
        repo.git.update_environment(**self._env(self.root))

    def _env(self, root: Path) -> dict[str, str]:
        # Config given through the environment counts as command-line config, the only kind besides
        # system/global that git trusts for safe.directory: a root process on a user's folder (or the
        # reverse) must not hit "dubious ownership". Hooks and signing are off: the agent's commits
        # must neither run the user's scripts nor wait for a passphrase.
        pairs = [("safe.directory", str(root)), ("safe.directory", str(self.path)),
                 ("core.hooksPath", os.devnull), ("commit.gpgSign", "false"), ("core.quotePath", "false")]
        start = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
        env = {"GIT_CONFIG_COUNT": str(start + len(pairs)), "GIT_LITERAL_PATHSPECS": "1",
               "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
        for i, (key, value) in enumerate(pairs, start):
            env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
        return env

    def _refuse_if_in_progress(self) -> None:
        git_dir = Path(self._require_repo().git_dir)
        for name, (what, cont, abort) in IN_PROGRESS.items():
            if (git_dir / name).exists():
                raise UsageError(f"the repository at {self.root} is in the middle of {what}; "
                                 f"finish it ({cont}) or abort it ({abort}), then try again")

    # ---- commits ----------------------------------------------------------------------------

    def _changed_paths(self) -> list[str]:
        """Repo-relative paths under the folder that differ from HEAD, minus files too big to keep."""
        out = self._git("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", self._spec,
                        strip_newline_in_stdout=False)
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
            if self._too_big(path):
                continue
            paths.append(path)
        return paths

    def _too_big(self, path: str) -> bool:
        try:
            size = (self.root / path).lstat().st_size
        except OSError:  # deleted: committing the deletion is fine
            return False
        if size <= self.max_file_bytes or (self.root / path).is_dir():
            return False
        if path not in self.skipped_large:
            self.skipped_large.append(path)
            log.warning("not committing %s: %d MB is over the %d MB limit", path, size >> 20,
                        self.max_file_bytes >> 20)
        return True

    def _commit(self, paths: list[str], subject: str, identity: dict[str, str]) -> str | None:
        if not paths:
            return None
        with tempfile.NamedTemporaryFile("w", suffix=".paths") as listing:
            listing.write("\0".join(paths))
            listing.flush()
            from_file = (f"--pathspec-from-file={listing.name}", "--pathspec-file-nul")
            self._git("add", "-A", *from_file)
            # --only: commit just these paths, never what the user staged elsewhere in an enclosing repo.
            with self._repo.git.custom_environment(**identity):
                self._git("commit", "-q", "--only", *from_file, "-m", subject,
                          "-m", f"Eval-Agent-Run: {self.run_id}")
        return self.head

    def _snapshot_user_changes(self) -> str | None:
        return self._commit(self._changed_paths(), SNAPSHOT_SUBJECT, self._user_identity())

    def _initial_commit(self) -> None:
        # Plumbing, so whatever the user staged in an unborn repo stays theirs for the snapshot.
        with tempfile.TemporaryDirectory() as tmp, self._repo.git.custom_environment(
                GIT_INDEX_FILE=os.path.join(tmp, "index"), **self._agent_identity()):
            empty_tree = self._git("write-tree")
            sha = self._git("commit-tree", empty_tree, "-m", "eval-agent: initialize repository",
                            "-m", f"Eval-Agent-Run: {self.run_id}")
        self._git("update-ref", "HEAD", sha)

    def _agent_identity(self) -> dict[str, str]:
        return _identity(AGENT_NAME, AGENT_EMAIL)

    def _user_identity(self) -> dict[str, str]:
        """The user's configured name and email when both are known, else the agent's."""
        def lookup(env_key: str, config_key: str) -> str:
            return os.environ.get(env_key) or self._git("config", "--get", config_key, with_exceptions=False)
        name, email = lookup("GIT_AUTHOR_NAME", "user.name"), lookup("GIT_AUTHOR_EMAIL", "user.email")
        return _identity(name, email) if name and email else self._agent_identity()

    # ---- diff helpers -----------------------------------------------------------------------

    def _since(self, since: str | None) -> str:
        return since or self.base or self.head

    def _relative(self) -> tuple[str, ...]:
        return () if self._spec == "." else (f"--relative={self._spec}",)

    def _worktree_tree(self) -> str:
        """A tree of the work tree as it is now, built in a scratch index so the real one is untouched."""
        repo = self._require_repo()
        with tempfile.TemporaryDirectory() as tmp:
            index = os.path.join(tmp, "index")
            real_index = Path(repo.git_dir) / "index"
            if real_index.exists():
                shutil.copyfile(real_index, index)
            with repo.git.custom_environment(GIT_INDEX_FILE=index):
                paths = self._changed_paths()
                if paths:
                    listing = os.path.join(tmp, "paths")
                    Path(listing).write_text("\0".join(paths))
                    self._git("add", "-A", f"--pathspec-from-file={listing}", "--pathspec-file-nul")
                return self._git("write-tree")

    def _give_files_to_owner(self, restored: list[str] = ()) -> None:
        """Run as root on someone else's folder, git would leave root-owned files in .git (and
        undo in the work tree) that the folder's owner then cannot change: hand them over."""
        owner = self.path.stat()
        if os.geteuid() != 0 or owner.st_uid == 0:
            return
        paths = [Path(self._require_repo().git_dir)] + [self.path / name for name in restored]
        for folder, dirs, files in os.walk(paths[0]):
            paths += [Path(folder, name) for name in dirs + files]
        for path in paths:
            _chown_if_root(path, owner.st_uid, owner.st_gid)

    def _require_repo(self) -> git.Repo:
        if self._repo is None:
            raise UsageError("the workspace is not prepared yet (call prepare() first)")
        return self._repo

    def _git(self, *args: str, **kwargs):
        return self._require_repo().git.execute(["git", *args], **kwargs)


def _chown_if_root(path: Path, uid: int, gid: int) -> None:
    try:
        if os.lstat(path).st_uid == 0:
            os.lchown(path, uid, gid)
    except FileNotFoundError:
        pass


def _identity(name: str, email: str) -> dict[str, str]:
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
