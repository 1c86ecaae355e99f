"""Ray's overhead on a bench, and the driver's cost per attempt.

In one run: the oracle over the shipped tasks (tasks/) through the thread pool and through Ray,
the same -j, ROUNDS times each, interleaved so that both see the same machine load. Ray runs on
this machine: a head node with -j slots, started once before the rounds as `ray start --head`
would be; each Ray bench joins it (that is included in its time). Prints the median wall time of each and the ratio; goal: Ray at most 1.15x.

The driver's cost per attempt (receiving a result and its trajectory, writing the trajectory,
indexing it, appending the result) is measured inside the Ray bench (RayBench.cost) and turned
into an estimate for 100 nodes running 8 attempts each: the rate at which one driver can take in
attempts, against the rate at which 800 slots finish them.

    python benchmarks/bench_ray.py [--jobs 4] [--rounds 3] [--attempts 1] [--attempt-seconds 600]

Exits 0 whether the goal is met or not (it reports; it does not gate)."""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GOAL = 1.15


def start_cluster(jobs: int) -> tuple[str, Path]:
    """A Ray head on this machine with `jobs` slots, as `ray start --head` makes for a user."""
    port = 6400 + os.getpid() % 1000
    temp = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    subprocess.run([str(Path(sys.executable).with_name("ray")), "start", "--head", "--port", str(port),
                    "--include-dashboard=false", "--disable-usage-stats", "--temp-dir", str(temp),
                    "--resources", f'{{"eval_agent_slot": {jobs}}}'], check=True, capture_output=True)
    return f"127.0.0.1:{port}", temp


def one_bench(executor: str, jobs: int, folder: Path, address: str | None, attempts: int):
    """(seconds, the driver's cost or None, attempts): the oracle over tasks/, as `eval-agent bench` runs it."""
    from rich.console import Console

    from eval_agent.bench.progress import Progress
    from eval_agent.bench.ray_executor import RayBench
    from eval_agent.bench.runner import BenchOptions, BenchRunner
    from eval_agent.bench.tasks import discover
    from eval_agent.config import load_settings

    tasks = discover([ROOT / "tasks"], None)
    os.environ["EVAL_AGENT_HOME"] = str(folder / "home")
    options = BenchOptions(out=folder / "out", agent="oracle", jobs=jobs, attempts=attempts, executor=executor,
                           ray_address=address)
    progress = Progress(len(tasks), jobs, console=Console(file=io.StringIO()), live=False)
    started = time.perf_counter()
    runner = BenchRunner(tasks, load_settings({}), options)
    runner.results.check_meta(runner.meta)
    work = runner.pending([])
    if executor == "ray":
        RayBench(runner).run(progress, work)  # joining the cluster included
    else:
        runner.run(progress, work)
    seconds = time.perf_counter() - started
    results = runner.results.load()
    failed = [r.task for r in results if not r.passed]
    if failed or len(results) != len(tasks) * attempts:
        raise SystemExit(f"{executor}: the oracle did not pass every task ({failed}); the timing would mean nothing")
    return seconds, runner.driver_cost, len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--attempts", type=int, default=1, help="attempts per task (15 tasks)")
    parser.add_argument("--attempt-seconds", type=float, default=600.0,
                        help="how long one agent attempt takes, for the 100-node estimate (a model's, not the oracle's)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"threads": [], "ray": []}
    costs = []
    address, ray_temp = start_cluster(args.jobs)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for round_ in range(args.rounds):
                for executor in ("threads", "ray") if round_ % 2 == 0 else ("ray", "threads"):
                    seconds, cost, count = one_bench(executor, args.jobs, Path(scratch) / f"{executor}-{round_}", address,
                                                     args.attempts)
                    times[executor].append(seconds)
                    if cost is not None:
                        costs.append(cost)
                    print(f"round {round_ + 1}: {executor:7} {count} attempts in {seconds:6.1f} s", flush=True)
    finally:
        subprocess.run([str(Path(sys.executable).with_name("ray")), "stop", "--force"], capture_output=True)
        shutil.rmtree(ray_temp, ignore_errors=True)
    threads, ray = statistics.median(times["threads"]), statistics.median(times["ray"])
    ratio = ray / threads
    print(f"\noracle over tasks/ x {args.attempts} at -j {args.jobs}, median of {args.rounds}: "
          f"threads {threads:.1f} s, Ray {ray:.1f} s (Ray's extra: {ray - threads:.1f} s)")
    print(f"Ray / threads = {ratio:.2f}x (goal at most {GOAL}x: {'met' if ratio <= GOAL else 'NOT met'})")
    samples = [sample for cost in costs for sample in cost.samples]
    per_attempt = statistics.median(samples)
    worst = max(samples)
    size = sum(cost.bytes for cost in costs) / max(1, len(samples))
    print(f"driver per attempt: median {per_attempt * 1000:.1f} ms, worst {worst * 1000:.1f} ms "
          f"({len(samples)} attempts, {size / 1024:.1f} KiB of trajectory each)")
    slots = 100 * 8
    needed = slots / args.attempt_seconds
    capacity = 1 / per_attempt
    print(f"100 nodes x 8 slots, {args.attempt_seconds:.0f} s per attempt: {needed:.2f} attempts/s finish; "
          f"one driver takes in {capacity:.0f}/s at this cost: {'not' if capacity > needed else 'IS'} the bottleneck "
          f"(it would be at attempts shorter than {slots * per_attempt:.1f} s)")


if __name__ == "__main__":
    main()
