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
from ..prompts import Prompts
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
    from ..sandbox.docker_sandbox import DockerSandbox, DockerSandboxConfig
    from ..sandbox.image import ensure_image, image_tag
    from ..session import new_id

    steps = trajectory.steps()
    if not steps:
        raise UsageError(f"run {trajectory.run_id} has no actions to replay")
    started = trajectory.started
    prompts = _prompts(started.get("prompts") or {})
    max_steps = (started.get("limits") or {}).get("max_steps")
    if image is None:
        image = image_tag()
        ensure_image(log=log)
    with tempfile.TemporaryDirectory(prefix="eval-agent-replay-") as scratch:
        workspace, note = _checkout(started.get("workspace") or {}, Path(scratch) / "workspace")
        report = ReplayReport(run_id=trajectory.run_id, workspace_note=note)
        sandbox = DockerSandbox(DockerSandboxConfig(image=image, workspace=workspace,
                                                    network=(started.get("sandbox") or {}).get("network", "bridge"),
                                                    session_id="replay-" + new_id()))
        tools = default_tools()
        try:
            sandbox.start()
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


def _checkout(workspace: dict, target: Path) -> tuple[Path | None, str]:
    """A clone of the run's workspace at its base commit; an empty folder when that is gone."""
    import git

    path, commit = workspace.get("path"), workspace.get("base_commit")
    if not path:
        return None, "the run had no workspace folder: replaying in the image's own work folder"
    target.mkdir(parents=True)
    if not commit:
        return target, f"no base commit recorded for {path}: replaying in an empty folder"
    try:
        repo = git.Repo.clone_from(path, target, no_checkout=True)
        repo.git.checkout(commit)
    except (git.GitCommandError, git.NoSuchPathError, git.InvalidGitRepositoryError) as exc:
        for child in target.iterdir() if target.exists() else []:
            _remove_tree(child)
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        return target, f"cannot check out {commit[:12]} from {path} ({reason}): replaying in an empty folder"
    return target, f"workspace: a fresh checkout of {path} at {commit[:12]}"


def _remove_tree(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
