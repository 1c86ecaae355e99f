"""Export throughput: N synthetic trajectories of S steps (default 10,000 x 30) exported to the
openai and trl formats, end to end (index, read, filter, convert, redaction gate with
detect-secrets, write), in steps per second, against a plain baseline measured in the same run:
read the same files, json.loads every line and json.dumps the events to one file.

    python benchmarks/export_throughput.py [--runs 10000] [--steps 30]

Goal: >= 20,000 steps/s for each format."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval_agent.trajectory.export import ExportOptions, export_runs  # noqa: E402
from eval_agent.trajectory.reader import read_summary  # noqa: E402
from eval_agent.trajectory.recorder import trajectories_dir  # noqa: E402
from eval_agent.trajectory.store import RunStore  # noqa: E402
from eval_agent.trajectory.synthetic import SyntheticRun, write_run  # noqa: E402

GOAL = 20_000


def make_runs(home: Path, runs: int, steps: int) -> None:
    summaries = []
    for index in range(runs):
        spec = SyntheticRun(run_id=f"bench-{index:06d}", request=f"task {index % 500}: build and test a service",
                            steps=steps, started_at=1_790_000_000 + index, seed=index, failed_steps=(3,))
        summaries.append(read_summary(write_run(home, spec)))
    with RunStore(home) as store:
        store.replace_all(summaries)


def baseline(home: Path, out: Path) -> float:
    started = time.perf_counter()
    with open(out, "w", encoding="utf-8") as sink:
        for path in sorted(trajectories_dir(home).glob("*.jsonl")):
            events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            sink.write(json.dumps(events, ensure_ascii=False) + "\n")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eval-agent-bench-") as scratch:
        home, out = Path(scratch) / "home", Path(scratch) / "out"
        out.mkdir()
        t0 = time.perf_counter()
        make_runs(home, args.runs, args.steps)
        size = sum(path.stat().st_size for path in trajectories_dir(home).glob("*.jsonl"))
        print(f"{args.runs:,} synthetic trajectories of {args.steps} steps (+ finish): {size / 1e6:.0f} MB "
              f"({size / args.runs / (args.steps + 1) / 1024:.1f} KiB recorded per step), made in {time.perf_counter() - t0:.1f} s")
        base_seconds = baseline(home, out / "baseline.jsonl")
        total_steps = args.runs * (args.steps + 1)
        base_rate = total_steps / base_seconds
        print(f"{'json.dumps baseline':20s} {base_seconds:7.2f} s  {base_rate:10,.0f} steps/s")
        ok = True
        for fmt, target in (("openai", out / "train.jsonl"), ("trl", out / "trl")):
            started = time.perf_counter()
            summary = export_runs(home, ExportOptions(format=fmt, out=target))
            seconds = time.perf_counter() - started
            rate = summary.steps / seconds
            ok &= rate >= GOAL
            print(f"{'export ' + fmt:20s} {seconds:7.2f} s  {rate:10,.0f} steps/s  "
                  f"({rate / base_rate:.2f}x the baseline; {summary.written:,} written, goal {GOAL:,} steps/s: "
                  f"{'met' if rate >= GOAL else 'NOT met'})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
