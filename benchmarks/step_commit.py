"""What keeping git off the host costs: each agent step's commit made in the git box (a container of
its own, reached by `docker exec`) against the same commit made by git on the host (as before the
git box, and as `--sandbox local` still does), measured side by side in one run.

Per round, in one workspace for each runner: a step that changed nothing (one `git status`), a
step that wrote a file (status + commit), and the REPL's /diff. Also the git box's start and
removal, once per session. Rounds alternate the order of the two runners. Prints medians and the
ratios box / host; what a step costs against a model call (seconds) is the figure that matters.

    python benchmarks/step_commit.py [--rounds 30] [--files 200]

Exits 0 whatever the figures (it reports; it does not gate)."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from eval_agent.git_runner import HostGit
from eval_agent.repo_layout import locate
from eval_agent.sandbox.docker_sandbox import sandbox_user
from eval_agent.sandbox.git_box import GitBox, box_mounts
from eval_agent.sandbox.image import ensure_image, image_tag
from eval_agent.workspace import Workspace


def project(root: Path, files: int) -> Path:
    """A small project: `files` source files in a few folders, already committed."""
    for index in range(files):
        path = root / f"pkg{index % 10}" / f"module_{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def f{index}():\n    return {index}\n" * 20)
    return root


def measure(workspace: Workspace, folder: Path, samples: dict[str, list[float]], step: list[int]) -> None:
    def timed(name: str, call) -> None:
        started = time.perf_counter()
        call()
        samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)

    step[0] += 1
    timed("step, nothing changed", lambda: workspace.commit_step(step[0], "looked around"))
    (folder / "pkg0" / f"new_{step[0]}.py").write_text(f"x = {step[0]}\n")
    step[0] += 1
    timed("step that wrote a file", lambda: workspace.commit_step(step[0], "wrote a file"))
    timed("/diff", lambda: workspace.diff())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--files", type=int, default=200, help="files in the project (default 200)")
    args = parser.parse_args(argv)
    ensure_image(log=lambda line: print(line, file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="eval-agent-bench-commit-") as scratch:
        folders = {name: project(Path(scratch) / name, args.files) for name in ("host", "box")}
        box_samples: list[float] = []
        started = time.perf_counter()
        box = GitBox(image_tag(), box_mounts(locate(folders["box"])), sandbox_user(folders["box"]), "bench-commit").start()
        box_samples.append((time.perf_counter() - started) * 1000)
        try:
            workspaces = {"host": Workspace(folders["host"], runner=HostGit()),
                          "box": Workspace(folders["box"], runner=box)}
            for workspace in workspaces.values():
                workspace.prepare()
                workspace.begin_request()
            samples = {"host": {}, "box": {}}
            steps = {"host": [0], "box": [0]}
            for round_index in range(args.rounds):
                order = ("host", "box") if round_index % 2 == 0 else ("box", "host")
                for name in order:
                    measure(workspaces[name], folders[name], samples[name], steps[name])
        finally:
            started = time.perf_counter()
            box.close()
            box_samples.append((time.perf_counter() - started) * 1000)
    print(f"{args.rounds} rounds, a project of {args.files} files; medians in ms")
    print(f"{'':26}{'host git':>10}{'git box':>10}{'box/host':>10}")
    for name in samples["host"]:
        host, boxed = statistics.median(samples["host"][name]), statistics.median(samples["box"][name])
        print(f"{name:26}{host:10.1f}{boxed:10.1f}{boxed / host:10.1f}x")
    print(f"git box start {box_samples[0]:.0f} ms, removal {box_samples[1]:.0f} ms (once per session)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
