"""`traj replay`: run a recorded run's actions again, in order, in a fresh sandbox on a checkout of
the workspace as it was when the run began (its base commit), and compare each observation with
the one the model saw. No model is called: this checks that a trajectory's observations still
follow from its actions (a flaky test, a network fetch, a clock, a changed image all show up)."""

from __future__ import annotations

import difflib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import UsageError
from ..models.base import ToolCall
from ..loop.prompts import Prompts
from ..tools.registry import default_tools, run_tool
from .reader import Step, Trajectory
from .redact import Redactor

DIFF_LINES = 12  # of each differing step's diff, in the report


@dataclass
class StepReplay:
    step: Step
    replayed: str | None  # the observation the model would see now; None when not run
    note: str = ""

    @property
    def same(self) -> bool:
        return self.replayed is None or self.replayed == self.step.observation

    def diff(self) -> list[str]:
        if self.same:
            return []
        lines = list(difflib.unified_diff(self.step.observation.splitlines(), (self.replayed or "").splitlines(),
                                          "recorded", "replayed", lineterm="", n=1))
        return lines[:DIFF_LINES] + ([f"... ({len(lines) - DIFF_LINES} more diff lines)"] if len(lines) > DIFF_LINES else [])


@dataclass
class ReplayReport:
    run_id: str
    workspace_note: str
    steps: list[StepReplay] = field(default_factory=list)

    @property
    def differing(self) -> list[StepReplay]:
        return [step for step in self.steps if not step.same]


def replay(trajectory: Trajectory, image: str | None = None, log: Callable[[str], None] = lambda line: None,
           on_step: Callable[[StepReplay], None] = lambda step: None) -> ReplayReport:
    from ..sandbox.base import DEFAULT_COMMAND_TIMEOUT
    from ..sandbox.factory import SandboxSettings, start_sandbox
    from ..sandbox.image import ensure_image, image_tag
    from ..session import new_id

    steps = trajectory.steps()
    if not steps:
        raise UsageError(f"run {trajectory.run_id} has no actions to replay")
    started = trajectory.started
    prompts = _prompts(started.get("prompts") or {})
    max_steps = (started.get("limits") or {}).get("max_steps")
    ensure_image(log=log)  # the git box's image, and the replay's own unless one is given
    image = image or image_tag()
    with tempfile.TemporaryDirectory(prefix="eval-agent-replay-") as scratch:
        workspace, note = _checkout(started.get("workspace") or {}, Path(scratch) / "checkout", image_tag())
        report = ReplayReport(run_id=trajectory.run_id, workspace_note=note)
        recorded = started.get("sandbox") or {}
        # the recorded command timeout: a step that timed out then times out now (older records: the default)
        sandbox = start_sandbox(SandboxSettings(
            image=image, workspace=workspace, network=recorded.get("network", "bridge"), session_id="replay-" + new_id(),
            command_timeout=recorded.get("command_timeout", DEFAULT_COMMAND_TIMEOUT)))
        tools = default_tools()
        try:
            for step in steps:
                result = _replay_step(step, tools, sandbox, prompts, started.get("tool_mode", "native"), max_steps)
                report.steps.append(result)
                on_step(result)
        finally:
            sandbox.close()
    return report


def _replay_step(step: Step, tools, sandbox, prompts: Prompts, tool_mode: str, max_steps: int | None) -> StepReplay:
    if step.rejected:
        return StepReplay(step, None, "not run: the user rejected it")
    if step.exit_code == 130 and "[interrupted by the user]" in step.observation:
        return StepReplay(step, None, "not run: it was interrupted by the user")
    observation = run_tool(tools, ToolCall(name=step.tool, arguments=step.arguments, id=step.call_id), sandbox)
    # the record says which protocol the step went out in (an auto run may have fallen back to text)
    mode = "text" if step.observation.startswith(f"Result of {step.tool}:") else tool_mode
    steps_left = None if max_steps is None else max_steps - step.number
    text = prompts.render("observation", tool=step.tool, output=observation.output, tool_mode=mode,
                          steps_left=steps_left, cut_chars=observation.details.get("cut_chars", 0))
    # redacted as the recorder redacts: a secret the run printed compares equal, and is never shown
    return StepReplay(step, Redactor().text(text))


def _prompts(record: dict) -> Prompts:
    folder = record.get("dir")
    if folder and folder != "builtin" and Path(folder).is_dir():
        return Prompts(Path(folder))
    return Prompts(None)


def _checkout(workspace: dict, target: Path, box_image: str) -> tuple[Path | None, str]:
    """A clone of the run's workspace at its base commit; an empty folder when that is gone. The
    workspace's repository was written by a sandbox: it is cloned and checked out in a git box
    (sandbox/git_box.py) that sees it read-only, never by git on the host."""
    from ..repo_layout import locate
    from ..sandbox.docker_sandbox import sandbox_user
    from ..sandbox.git_box import BoxMount, GitBox, box_mounts
    from ..session import new_id

    path, commit = workspace.get("path"), workspace.get("base_commit")
    if not path:
        return None, "the run had no workspace folder: replaying in the image's own work folder"
    target.mkdir(parents=True)
    empty = target / "empty"
    empty.mkdir()
    if not commit:
        return empty, f"no base commit recorded for {path}: replaying in an empty folder"
    source = Path(path)
    layout = locate(source) if source.is_dir() else None
    if layout is None or layout.git_dir is None:
        why = layout.refused if layout and layout.refused else "no repository there any more"
        return empty, f"cannot check out {commit[:12]} from {path} ({why}): replaying in an empty folder"
    mounts = [BoxMount(mount.host, writable=False) for mount in box_mounts(layout)] + [BoxMount(target)]
    repo = target / "repo"
    box = GitBox(box_image, mounts, sandbox_user(target), "replay-" + new_id()).start()
    try:
        steps = (["git", "clone", "-q", "--no-local", "--no-checkout", "--", box.path(layout.common_dir or layout.git_dir),
                  box.path(repo)], ["git", "-C", box.path(repo), "checkout", "-q", "--detach", commit])
        for argv in steps:
            done = box.run(argv, cwd=target)
            if done.code != 0:
                reason = done.err.strip().splitlines()[-1] if done.err.strip() else f"exit code {done.code}"
                return empty, f"cannot check out {commit[:12]} from {path} ({reason}): replaying in an empty folder"
    finally:
        box.close()
    # a folder inside a larger repository is replayed as the run saw it: that folder alone
    return repo / layout.spec if layout.spec != "." else repo, f"workspace: a fresh checkout of {path} at {commit[:12]}"
