"""What a run left in the workspace's repository settings, for the user's own git afterwards.

The agent may use git in the sandbox, and so may write `.git/config` and `.git/hooks`: eval-agent
itself never obeys them on the host (its git runs in the git box), but the user's own git would,
the next time they run it in that folder. A poisoned `core.fsmonitor` or filter would then run as
the user. So the files that make git run programs are fingerprinted before each request and
compared after it; a change is reported as one warning that names what changed. Read with
repo_layout's link-refusing reads: nothing is followed, nothing is run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .repo_layout import MAX_CONFIG_BYTES, config_entries, entry_kind, entry_stat, list_dir, read_small

CONTROL_FILES = ("config", "config.worktree", "commondir", "info/attributes")


@dataclass(frozen=True)
class RepoState:
    git_kind: str  # what `.git` is: dir, file, link, missing ...
    files: tuple[tuple[str, bytes | None], ...]  # the control files' contents (None: absent)
    hooks: tuple[tuple[str, int, int], ...]  # hook file names, sizes and modes


def snapshot(workspace: Path) -> RepoState:
    kind = entry_kind(workspace, ".git")
    if kind != "dir":
        return RepoState(kind, (), ())
    files = tuple((name, read_small(workspace, f".git/{name}", MAX_CONFIG_BYTES)) for name in CONTROL_FILES)
    hooks = []
    for name in list_dir(workspace, ".git/hooks"):
        found = entry_stat(workspace, f".git/hooks/{name}")
        if found is not None:
            hooks.append((name, found.st_size, found.st_mode))
    return RepoState(kind, files, tuple(hooks))


def changes(before: RepoState, after: RepoState) -> list[str]:
    """What differs, in words: ["`.git/config`: core.fsmonitor, filter.pwn.clean", ...]."""
    if before.git_kind != after.git_kind:
        return [f"`.git` was a {before.git_kind} and is now a {after.git_kind}"] if before.git_kind != "missing" \
            else [f"a new repository (`.git`, a {after.git_kind})" + _new_config(after)]
    found = []
    old, new = dict(before.files), dict(after.files)
    for name in CONTROL_FILES:
        if old.get(name) == new.get(name):
            continue
        if name == "config":
            a, b = config_entries(old.get(name)), config_entries(new.get(name))
            keys = sorted(key for key in set(a) | set(b) if a.get(key) != b.get(key))
            found.append("`.git/config`" + (f": {_listed(keys)}" if keys else ""))
        else:
            found.append(f"`.git/{name}`")
    hooks_before, hooks_after = set(before.hooks), set(after.hooks)
    changed_hooks = sorted({hook[0] for hook in hooks_after - hooks_before})
    if changed_hooks:
        found.append(f"hooks: {_listed(changed_hooks)}")
    return found


def _new_config(state: RepoState) -> str:
    keys = sorted(config_entries(dict(state.files).get("config")))
    unusual = [key for key in keys if not key.startswith(("core.repositoryformatversion", "core.filemode", "core.bare",
                                                         "core.logallrefupdates"))]
    return f" with settings {_listed(unusual)}" if unusual else ""


def _listed(names: list[str], shown: int = 6) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def warning(workspace: Path, found: list[str]) -> str:
    return (f"this run changed the repository settings in {workspace}: {'; '.join(found)}. Git obeys them "
            "when you use it in that folder (settings like core.fsmonitor or a filter run programs): "
            "review them with `git config --local --list` and `ls .git/hooks` before you run git there")
