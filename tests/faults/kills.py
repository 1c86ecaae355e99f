"""SIGKILL at random moments of real `eval-agent run` processes, and the checks that follow: every
record reads as finished or incomplete (never unreadable), `traj reindex` rebuilds the index the
runs wrote as they went, and `sandbox prune` leaves none of their containers. Shared by
tests/faults/test_sigkill.py (a dozen kills) and benchmarks/soak.py (hundreds)."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import cli_env

STEPS = [{"content": "- [ ] work"}] + [
    {"tool": "bash", "args": {"command": f"echo step-{n}; head -c 20000 /dev/urandom | base64 > out-{n}.txt; sleep 0.6"}}
    for n in range(4)] + [{"tool": "finish", "args": {"summary": "done"}}]


@dataclass
class KillReport:
    runs: int = 0
    killed: int = 0
    finished: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    index_differs: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)


def run_and_kill(home: Path, folder: Path, count: int, seed: int, kill_within: tuple[float, float] = (0.2, 4.0),
                 parallel: int = 2) -> KillReport:
    """`count` runs, `parallel` at a time, each SIGKILLed at a random moment in `kill_within`
    seconds of its start (some finish first: they count as finished)."""
    rng = random.Random(seed)
    script = folder / "script.json"
    script.write_text(json.dumps(STEPS))
    report = KillReport()
    pending = list(range(count))
    running: list[tuple[subprocess.Popen, float]] = []
    while pending or running:
        while pending and len(running) < parallel:
            number = pending.pop()
            workspace = folder / f"ws-{number}"
            workspace.mkdir()
            process = subprocess.Popen([sys.executable, "-m", "eval_agent", "run", f"run {number}", "--model",
                                        f"scripted:{script}", "-w", str(workspace)], env=cli_env(home),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            running.append((process, time.monotonic() + rng.uniform(*kill_within)))
            report.runs += 1
        time.sleep(0.05)
        for process, deadline in list(running):
            if process.poll() is not None:
                report.finished += process.returncode == 0
                running.remove((process, deadline))
            elif time.monotonic() >= deadline:
                process.send_signal(signal.SIGKILL)
                process.wait()
                report.killed += 1
                running.remove((process, deadline))
    check_records(home, report)
    return report


def check_records(home: Path, report: KillReport) -> None:
    from eval_agent.trajectory.reader import TrajectoryError, read_trajectory

    for path in sorted((home / "trajectories").glob("*.jsonl")):
        try:
            status = read_trajectory(path).status
        except TrajectoryError as exc:
            report.unreadable.append(f"{path.name}: {exc}")
            continue
        report.statuses[status] = report.statuses.get(status, 0) + 1
    before = index_rows(home)
    subprocess.run([sys.executable, "-m", "eval_agent", "traj", "reindex"], env=cli_env(home), check=True,
                   capture_output=True)
    after = index_rows(home)
    report.index_differs = sorted(run for run in set(before) | set(after) if before.get(run) != after.get(run))


def index_rows(home: Path) -> dict[str, tuple]:
    """run id -> the row; `traj ls` first brings runs killed since their last event up to date."""
    subprocess.run([sys.executable, "-m", "eval_agent", "traj", "ls", "--json"], env=cli_env(home), check=True,
                   capture_output=True)
    with sqlite3.connect(home / "index.sqlite") as db:
        db.row_factory = sqlite3.Row
        return {row["run_id"]: tuple(row) for row in db.execute("SELECT * FROM runs")}


def prune_and_count_leaks(home: Path, report: KillReport) -> None:
    import docker

    subprocess.run([sys.executable, "-m", "eval_agent", "sandbox", "prune"], env=cli_env(home), check=True,
                   capture_output=True)
    workspaces = {str(path) for path in home.parent.glob("ws-*")}
    for container in docker.from_env().containers.list(all=True, filters={"label": "eval-agent=1"}):
        if container.labels.get("eval-agent.workspace") in workspaces:
            report.leaked.append(container.name)
