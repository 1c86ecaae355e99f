"""The engine losing a short exec's output, a fault seen for real: under load, Docker 20.10 now
and then answered an exec that had run to the end (exit code 0) with no output at all, and a bench
attempt ended in "could not prepare the task's files" (about 1 in 50 attempts of a thin task at
-j 4); in the verifier the same loss would read as a failed test. Here the loss is made certain
(the real engine runs every exec; its answer is dropped) for every exec but the verifier's
re-read: the bench must give the oracle's and nop's verdicts all the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from docker.api.client import APIClient

from eval_agent.bench import verify
from eval_agent.bench.report import AttemptResult
from eval_agent.bench.runner import BenchOptions, run_bench
from eval_agent.bench.tasks import discover
from eval_agent.config import load_settings

SHIPPED = Path(__file__).resolve().parents[2] / "tasks"


@pytest.fixture
def lossy_engine(monkeypatch):
    """Drops the answer of every exec run for its output, except the verifier's re-read."""
    real = APIClient.exec_start
    dropped = []

    def exec_start(self, exec_id, *args, **kwargs):
        answer = real(self, exec_id, *args, **kwargs)
        if kwargs.get("socket") or kwargs.get("detach") or kwargs.get("stream"):
            return answer  # the sandbox's shells: a stream, not a short exec's answer
        command = self.exec_inspect(exec_id)["ProcessConfig"]["arguments"][1]
        if command == verify.REPORT:
            return answer
        dropped.append(command)
        return b""

    monkeypatch.setattr(APIClient, "exec_start", exec_start)
    return dropped


def bench(tmp_path: Path, agent: str) -> list[AttemptResult]:
    tasks = discover([SHIPPED / "config-merge", SHIPPED / "csv-summary"], None)
    results, _ = run_bench(tasks, load_settings({}), BenchOptions(out=tmp_path / agent, agent=agent, jobs=2))
    return results


def test_lost_exec_output_changes_no_verdict(tmp_path, eval_home, sandbox_image, lossy_engine):
    oracle = bench(tmp_path, "oracle")
    assert [(r.task, r.passed, r.error) for r in oracle] == [("config-merge", True, None), ("csv-summary", True, None)]
    nop = bench(tmp_path, "nop")
    assert [(r.task, r.passed) for r in nop] == [("config-merge", False), ("csv-summary", False)]
    assert all(r.error is None or "reward" in r.error for r in nop)
    # the loss did happen: the thin task's files, and each verifier's first answer
    assert any("echo ready" in command for command in lossy_engine)
    assert sum(verify.EXIT_FILE in command for command in lossy_engine) == 4
