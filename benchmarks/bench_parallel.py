"""Speed-up of the bench's parallel runner: the oracle over tasks/ with -j 1 and with -j 2, in the
same run, on the same (pre-built) task images. Goal: at least 1.7 times faster with -j 2 on two cores.

    python benchmarks/bench_parallel.py [--tasks tasks] [--jobs 2] [--rounds 5]

Each round runs -j 1 and -j N into fresh result folders, in alternating order (what one run leaves
the engine to clean up lands on the other as often as not); the medians are compared. One round
alone moves by several hundredths from run to run on a shared machine, hence five. Trajectories
go to a temporary EVAL_AGENT_HOME. Exits 0 whether the goal is met or not (it reports; it does not
gate), 1 when an attempt fails (then the figure would mean nothing)."""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.7


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=Path, default=ROOT / "tasks", help="task folders (default: tasks/)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel attempts to compare with 1 (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of (-j 1, -j N) (default 5)")
    args = parser.parse_args(argv)

    home = tempfile.mkdtemp(prefix="eval-agent-bench-parallel-")
    os.environ["EVAL_AGENT_HOME"] = home
    from rich.console import Console

    from eval_agent.bench.images import task_image
    from eval_agent.bench.progress import Progress
    from eval_agent.bench.runner import BenchOptions, run_bench
    from eval_agent.bench.tasks import discover
    from eval_agent.config import Settings
    from eval_agent.errors import EvalAgentError
    from eval_agent.sandbox.engine import docker_client

    try:
        tasks = discover([args.tasks])
        started = time.perf_counter()
        for task in tasks:  # images are cached by content: build them outside the timing
            task_image(task, docker_client())
        print(f"{len(tasks)} tasks, images ready in {time.perf_counter() - started:.1f} s")
        timings: dict[int, list[float]] = {1: [], args.jobs: []}
        for round_number in range(args.rounds):
            for jobs in ((1, args.jobs) if round_number % 2 == 0 else (args.jobs, 1)):
                out = Path(tempfile.mkdtemp(prefix=f"j{jobs}-", dir=home))
                quiet = Progress(len(tasks), jobs, console=Console(file=io.StringIO()), live=False)
                started = time.perf_counter()
                results, _ = run_bench(tasks, Settings(), BenchOptions(out=out, agent="oracle", jobs=jobs), quiet)
                seconds = time.perf_counter() - started
                failed = [r.task for r in results if not r.passed]
                if failed:
                    print(f"the oracle failed {', '.join(failed)}: see {out}/results.jsonl", file=sys.stderr)
                    return 1
                timings[jobs].append(seconds)
                print(f"round {round_number + 1}: -j {jobs}: {seconds:.1f} s ({seconds / len(tasks):.2f} s per task)")
    except EvalAgentError as exc:
        print(f"bench_parallel: {exc}", file=sys.stderr)
        return exc.exit_code
    serial, parallel = statistics.median(timings[1]), statistics.median(timings[args.jobs])
    speedup = serial / parallel
    verdict = "meets" if speedup >= GOAL else "misses"
    print(f"-j 1 {serial:.2f} s, -j {args.jobs} {parallel:.2f} s: speed-up {speedup:.3f}x on {os.cpu_count()} cores "
          f"({verdict} the goal of {GOAL}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
