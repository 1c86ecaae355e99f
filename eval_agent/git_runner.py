"""Where eval-agent's own git commands on the workspace run, behind one small protocol.

The workspace, `.git` included, is written by the sandbox, and git obeys what a repository says:
its config runs programs (core.fsmonitor, filter drivers, diff.external, hooks, includes ...) and
git keeps adding keys that do. So with a Docker sandbox no git command of eval-agent's runs on the
host: they run in a git box (sandbox/git_box.py), a container of their own that sees only the
repository. HostGit runs them here, for `--sandbox local`, where the agent's commands run on the
host anyway and there is no boundary to keep."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import EnvironmentProblem

GIT_TIMEOUT = 120.0  # seconds; a repository can name a filter or a monitor that never returns

# Command-line config (the highest precedence): eval-agent's commits run no hook, sign nothing,
# start no monitor, recurse into no nested repository and never wait on a terminal.
HARDENED_CONFIG = (
    ("safe.directory", "*"), ("core.hooksPath", os.devnull), ("core.fsmonitor", "false"),
    ("commit.gpgSign", "false"), ("tag.gpgSign", "false"), ("core.quotePath", "false"),
    ("submodule.recurse", "false"), ("diff.ignoreSubmodules", "all"), ("status.submoduleSummary", "false"),
    ("core.pager", "cat"), ("protocol.allow", "never"), ("protocol.file.allow", "always"),
)


def git_environment() -> dict[str, str]:
    env = {"GIT_CONFIG_COUNT": str(len(HARDENED_CONFIG)), "GIT_LITERAL_PATHSPECS": "1",
           "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    for index, (key, value) in enumerate(HARDENED_CONFIG):
        env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
    return env


@dataclass
class GitResult:
    code: int
    out: str
    err: str


class GitRunner(Protocol):
    """Runs a command (git, or bash around git) where the repository's paths are visible."""

    def path(self, host_path: Path) -> str:
        """Where the runner sees a host path (one of the folders it was given)."""
        ...

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
            input: bytes | None = None) -> GitResult: ...

    def close(self) -> None: ...


class HostGit:
    """git on this machine: only where the workspace is not sandboxed (`--sandbox local`)."""

    def path(self, host_path: Path) -> str:
        return str(host_path)

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
            input: bytes | None = None) -> GitResult:
        variables = {key: value for key, value in os.environ.items() if not key.startswith("GIT_CONFIG_")}
        variables.update(git_environment(), **(env or {}))
        try:
            done = subprocess.run(argv, cwd=cwd, env=variables, input=input, capture_output=True,
                                  timeout=GIT_TIMEOUT)
        except FileNotFoundError:
            raise EnvironmentProblem(f"{argv[0]} is not installed; eval-agent needs git for the workspace") from None
        except subprocess.TimeoutExpired:
            return GitResult(124, "", f"{argv[0]} did not finish within {GIT_TIMEOUT:.0f} s")
        return GitResult(done.returncode, done.stdout.decode("utf-8", errors="surrogateescape"),
                         done.stderr.decode("utf-8", errors="replace"))

    def close(self) -> None:
        pass
