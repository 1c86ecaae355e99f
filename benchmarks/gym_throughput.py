"""The gym at scale, measured side by side in one run:

  generate   `eval-agent tasks generate -n N` (every task validated in Docker): tasks per minute
  bench      `eval-agent bench DIR --agent oracle -j J` over those N tasks: attempts per minute,
             and the seconds per attempt for the first and the last tenth (it must not grow with N)
  bare       `docker run --rm IMAGE true`, K runs, J at a time: the floor any attempt stands on

Goal: an oracle attempt costs at most 3x a bare container run at the same parallelism.

    python benchmarks/gym_throughput.py [--tasks 500] [--jobs 2] [--bare 40] [--keep DIR]

Exits 0 whatever the figures (it reports; it does not gate)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from eval_agent.sandbox.image import ensure_image, image_tag

GOAL = 3.0


def eval_agent(*args: str, home: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "eval_agent", *args], capture_output=True, text=True,
                          env={**os.environ, "EVAL_AGENT_HOME": str(home)})
    if done.returncode not in (0, 1):
        sys.exit(f"eval-agent {' '.join(args)} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started, done


def bare_runs(count: int, jobs: int) -> float:
    """Seconds of wall time per `docker run --rm IMAGE true`, `jobs` at a time."""
    def one(_: int) -> None:
        subprocess.run(["docker", "run", "--rm", "--network", "none", image_tag(), "true"], check=True,
                       capture_output=True)

    one(0)  # warm
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, range(count)))
    return (time.perf_counter() - started) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--bare", type=int, default=40, help="bare container runs (default 40)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    ensure_image(log=lambda line: print(line, file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="eval-agent-gym-bench-") as scratch:
        scratch = Path(scratch)
        tasks = args.keep or scratch / "tasks"
        generate_seconds, done = eval_agent("tasks", "generate", "--out", str(tasks), "-n", str(args.tasks),
                                            "-j", str(args.jobs), "--seed", "1", home=scratch / "home")
        print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:])
        bare_before = bare_runs(args.bare, args.jobs)
        results = scratch / "oracle"
        bench_seconds, done = eval_agent("bench", str(tasks), "--agent", "oracle", "-j", str(args.jobs),
                                         "--out", str(results), home=scratch / "home")
        bare_after = bare_runs(args.bare, args.jobs)
        rows = [json.loads(line) for line in (results / "results.jsonl").read_text().splitlines()]
    passed = sum(row["passed"] for row in rows)
    bare = (bare_before + bare_after) / 2
    per_attempt = bench_seconds / len(rows)
    tenth = max(1, len(rows) // 10)
    first = sum(row["seconds"] for row in rows[:tenth]) / tenth
    last = sum(row["seconds"] for row in rows[-tenth:]) / tenth
    print(f"generate: {args.tasks} tasks validated in {generate_seconds:.0f} s = "
          f"{args.tasks / generate_seconds * 60:.0f} tasks a minute (-j {args.jobs})")
    print(f"bench, oracle: {len(rows)} attempts ({passed} passed) in {bench_seconds:.0f} s = "
          f"{len(rows) / bench_seconds * 60:.0f} attempts a minute, {per_attempt:.2f} s of wall time each")
    print(f"  an attempt's own seconds, first tenth {first:.2f} s, last tenth {last:.2f} s (ratio {last / first:.2f})")
    print(f"bare `docker run --rm IMAGE true`, {args.jobs} at a time: {bare:.2f} s each "
          f"(before {bare_before:.2f}, after {bare_after:.2f})")
    ratio = per_attempt / bare
    print(f"attempt / bare container: {ratio:.2f}x (goal at most {GOAL:.0f}x): {'met' if ratio <= GOAL else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
