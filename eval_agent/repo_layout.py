"""Where the workspace's repository is, found on the host without running git and without following
a link the sandbox may have planted.

The workspace folder (its `.git` included) is written by the sandbox, so the host reads it only
through `lstat`-like calls that follow no symbolic link on the way (`entry_kind`, `read_small`):
a `.git` that is a symbolic link is never followed, and a `.git` file (a worktree's or submodule's
"gitdir:" pointer) is followed only where the repository it names points back at this workspace
in its own bookkeeping, which lives outside the workspace, out of the sandbox's reach. Folders
above the workspace are the user's own (the sandbox never sees them) and are read as usual."""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

MAX_POINTER_BYTES = 4096  # a gitfile or commondir is one short line
MAX_CONFIG_BYTES = 1024 * 1024
SECTION = re.compile(r'^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]')
ENTRY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$")


@dataclass(frozen=True)
class RepoLayout:
    """The repository that holds the workspace folder, as host paths."""

    workspace: Path
    work_tree: Path  # the repository's top folder: the workspace itself or a folder above it
    git_dir: Path | None  # None: no repository (yet): one is made in the workspace
    common_dir: Path | None = None  # a worktree's shared repository, when not git_dir itself
    refused: str = ""  # why the workspace's own .git is not used (a link, a foreign pointer)

    @property
    def spec(self) -> str:
        """The workspace as a pathspec relative to the work tree ('.' when they are the same)."""
        return self.workspace.relative_to(self.work_tree).as_posix()


def _open_dir(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _walk(root: Path, parts: list[str]) -> int:
    """A descriptor of root/parts[0]/.../parts[-1], refusing any symbolic link on the way."""
    fd = _open_dir(root)
    try:
        for part in parts:
            if part in ("", ".", ".."):
                raise OSError(errno.EINVAL, f"unexpected path component {part!r}")
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def entry_stat(root: Path, relative: str) -> os.stat_result | None:
    """lstat of root/relative where no component on the way is a symbolic link; None if missing
    or if the way leads through a link (what is at the end of a link is not the workspace's)."""
    *folders, name = relative.split("/")
    try:
        fd = _walk(root, folders)
    except OSError:
        return None
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except OSError:
        return None
    finally:
        os.close(fd)


def entry_kind(root: Path, relative: str) -> str:
    """'file', 'dir', 'link', 'other' or 'missing' for root/relative, following no link."""
    found = entry_stat(root, relative)
    if found is None:
        return "missing"
    mode = found.st_mode
    if stat.S_ISLNK(mode):
        return "link"
    return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


def list_dir(root: Path, relative: str) -> list[str]:
    """The entry names of the folder root/relative ('' for root itself), reached without following
    a link ([] if not)."""
    try:
        fd = _walk(root, [part for part in relative.split("/") if part])
    except OSError:
        return []
    try:
        return sorted(os.listdir(fd))
    finally:
        os.close(fd)


def read_small(root: Path, relative: str, limit: int) -> bytes | None:
    """The first `limit` bytes of a regular file at root/relative, following no link; None when it
    is missing, not a regular file, or reached through a link."""
    *folders, name = relative.split("/")
    try:
        fd = _walk(root, folders)
    except OSError:
        return None
    try:
        file_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        if not stat.S_ISREG(os.fstat(file_fd).st_mode):
            return None
        return os.read(file_fd, limit)
    finally:
        os.close(file_fd)


def _pointer(text: bytes | None, prefix: str = "") -> str | None:
    if text is None:
        return None
    line = text.decode("utf-8", errors="replace").strip()
    if prefix:
        if not line.startswith(prefix):
            return None
        line = line[len(prefix):].strip()
    return line or None


def _worktree_git_dir(workspace: Path) -> tuple[Path, Path] | str:
    """(git dir, common dir) of a `.git` file in the workspace, or why it is not followed."""
    target = _pointer(read_small(workspace, ".git", MAX_POINTER_BYTES), "gitdir:")
    if target is None:
        return "its .git is a file that does not say `gitdir: PATH`"
    git_dir = Path(os.path.normpath(workspace / target))
    if git_dir == workspace or workspace in git_dir.parents:
        return "its .git file points inside the workspace itself"
    if not _confirmed(git_dir, workspace):  # a pointer the repository does not confirm is not ours to give
        return (f"its .git file points to {git_dir}, which does not list this folder as a worktree or "
                "submodule of its own")
    common = _pointer(read_small(git_dir, "commondir", MAX_POINTER_BYTES))
    return git_dir, Path(os.path.normpath(git_dir / common)) if common else git_dir


def _confirmed(git_dir: Path, workspace: Path) -> bool:
    """Whether the repository's own record, outside the workspace, names this checkout: a worktree's
    `gitdir` file (written by `git worktree add`) its .git, a submodule's core.worktree its folder."""
    back = _pointer(read_small(git_dir, "gitdir", MAX_POINTER_BYTES))
    if back is not None and Path(os.path.normpath(git_dir / back)) == workspace / ".git":
        return True
    worktree = (config_entries(read_small(git_dir, "config", MAX_CONFIG_BYTES)).get("core.worktree") or [""])[-1]
    return bool(worktree.strip('"')) and Path(os.path.normpath(git_dir / worktree.strip('"'))) == workspace


def config_entries(text: bytes | None) -> dict[str, list[str]]:
    """section.subsection.key -> values, from a git config file (enough to name what changed)."""
    entries: dict[str, list[str]] = {}
    section = ""
    for line in (text or b"").decode("utf-8", errors="replace").splitlines():
        found = SECTION.match(line)
        if found:
            name, sub = found.group(1).lower(), found.group(2)
            section = f"{name}.{sub}" if sub is not None else name
            line = line[found.end():]
        found = ENTRY.match(line)
        if found and section and not line.lstrip().startswith(("#", ";")):
            entries.setdefault(f"{section}.{found.group(1).lower()}", []).append((found.group(2) or "").strip())
    return entries


def _ceilings() -> set[Path]:
    return {Path(p) for p in os.environ.get("GIT_CEILING_DIRECTORIES", "").split(":") if p}


def locate(workspace: Path) -> RepoLayout:
    """The repository holding `workspace` (resolved, a folder), as git would find it, except that
    the workspace's own `.git` is taken only when it is a real folder or a verified worktree."""
    workspace = Path(workspace).resolve()
    kind = entry_kind(workspace, ".git")
    if kind == "dir":
        return RepoLayout(workspace, workspace, workspace / ".git")
    if kind == "file":
        found = _worktree_git_dir(workspace)
        if isinstance(found, str):
            return RepoLayout(workspace, workspace, None, refused=found)
        git_dir, common = found
        return RepoLayout(workspace, workspace, git_dir, common if common != git_dir else None)
    if kind in ("link", "other"):
        return RepoLayout(workspace, workspace, None, refused="its .git is a symbolic link (or not a folder), "
                                                                "which eval-agent does not follow")
    ceilings = _ceilings()
    for folder in workspace.parents:  # the user's own folders: the sandbox cannot write them
        if folder in ceilings:
            break
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return RepoLayout(workspace, folder, dot_git)
        if dot_git.is_file():
            target = _pointer(read_small(folder, ".git", MAX_POINTER_BYTES), "gitdir:")
            if target is None:
                break
            git_dir = Path(os.path.normpath(folder / target))
            common = _pointer(read_small(git_dir, "commondir", MAX_POINTER_BYTES))
            common_dir = Path(os.path.normpath(git_dir / common)) if common else None
            return RepoLayout(workspace, folder, git_dir, common_dir)
    return RepoLayout(workspace, workspace, None)
