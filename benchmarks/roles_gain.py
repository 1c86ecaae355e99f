"""What the seed's agent ideas buy a small model, before any fine-tuning: the same model on the
same held-out tasks, the same attempts, with

    off     finish taken at its word, no make_tool (the defaults)
    review  a review turn before finish (--review on)
    tools   make_tool offered (--make-tools)

paired in one run. It prints, per configuration: pass rate with its 95% interval, tokens and
seconds per solved task, review turns (and how many sent the agent back), tools built; and per
configuration against `off`: tasks it solved that `off` did not, and the reverse.

Tasks: the shipped tasks/ (held out from every training set we make) plus --generated N gym
tasks of --seed (the embedded model was never trained on either).

    python benchmarks/roles_gain.py --model local --generated 12 --attempts 2
    python benchmarks/roles_gain.py --no-shipped --generated 8 --difficulty easy   # easy gym tasks only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from eval_agent.bench.report import wilson_interval

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"off": [], "review": ["--review", "on"], "tools": ["--make-tools"]}


def cli(args: list[str], env: dict, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "eval_agent", *args], env=env, capture_output=True, text=True)
    if check and done.returncode not in (0, 1):
        sys.exit(f"eval-agent {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-600:]}")
    return done


def read_results(folder: Path) -> list[dict]:
    path = folder / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def role_counts(results: list[dict]) -> dict[str, int]:
    """Review turns, rejections and tools built, read from the attempts' trajectories."""
    counts = {"reviews": 0, "sent_back": 0, "tools_built": 0, "built_tool_calls": 0}
    for result in results:
        record = result.get("record")
        if not record or not Path(record).exists():
            continue
        built: set[str] = set()
        for line in Path(record).read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.get("type")
            if kind == "reviewed":
                counts["reviews"] += 1
                counts["sent_back"] += not event.get("accepted")
            elif kind == "tools_changed":
                counts["tools_built"] += 1
                built.add(event.get("added"))
            elif kind == "tool_finished" and event.get("tool") in built:
                counts["built_tool_calls"] += 1
    return counts


def row(name: str, results: list[dict]) -> dict:
    passed = [r for r in results if r.get("passed")]
    low, high = wilson_interval(len(passed), len(results))
    tokens = sum(r.get("tokens") or 0 for r in results)
    seconds = sum(r.get("seconds") or 0 for r in results)
    return {"config": name, "attempts": len(results), "passed": len(passed), "rate": len(passed) / max(len(results), 1),
            "low": low, "high": high, "tokens_per_solved": tokens / len(passed) if passed else None,
            "seconds_per_solved": seconds / len(passed) if passed else None,
            "tokens_per_attempt": tokens / max(len(results), 1), "seconds_per_attempt": seconds / max(len(results), 1),
            "finished": sum(r.get("status") == "finished" for r in results), **role_counts(results)}


def paired(base: list[dict], other: list[dict]) -> tuple[int, int]:
    """(attempts `other` passed and `base` failed, the reverse), matched by task and attempt."""
    key = lambda r: (r["task"], r["attempt"])  # noqa: E731
    base_by = {key(r): bool(r.get("passed")) for r in base}
    wins = sum(1 for r in other if r.get("passed") and base_by.get(key(r)) is False)
    losses = sum(1 for r in other if not r.get("passed") and base_by.get(key(r)) is True)
    return wins, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local")
    parser.add_argument("--tasks", type=Path, action="append", help="task folders (default: the shipped tasks/)")
    parser.add_argument("--no-shipped", action="store_true", help="leave out the shipped tasks/")
    parser.add_argument("--generated", type=int, default=12, help="gym tasks to add (0: none)")
    parser.add_argument("--seed", type=int, default=1207)
    parser.add_argument("--difficulty", action="append", help="only gym tasks of this difficulty (repeatable)")
    parser.add_argument("--family", action="append", help="only gym tasks of this family (repeatable)")
    parser.add_argument("--filter", action="append", help="only tasks whose id matches (shell glob, repeatable)")
    parser.add_argument("--attempts", type=int, default=1)
    parser.add_argument("--configs", default="off,review,tools", help=f"comma-separated, of {', '.join(CONFIGS)}")
    parser.add_argument("--max-steps", type=int, default=15)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, help="results folder (default: a temporary one); reruns resume")
    args = parser.parse_args()
    configs = [name.strip() for name in args.configs.split(",") if name.strip()]
    unknown = [name for name in configs if name not in CONFIGS]
    if unknown or "off" not in configs:
        sys.exit(f"--configs: use names from {', '.join(CONFIGS)}, including off (the baseline)")

    out = args.out or Path(tempfile.mkdtemp(prefix="roles-gain-"))
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("EVAL_AGENT_HOME", str(out / "home"))
    task_paths = [str(path) for path in (args.tasks or ([] if args.no_shipped else [ROOT / "tasks"]))]
    if args.generated:
        generated = out / "generated"
        if not generated.exists():
            chosen = [part for flag, values in (("--difficulty", args.difficulty), ("--family", args.family))
                      for value in values or [] for part in (flag, value)]
            cli(["tasks", "generate", "--out", str(generated), "-n", str(args.generated), "--seed", str(args.seed),
                 *chosen], env)
        task_paths.append(str(generated))
    filters = [part for pattern in (args.filter or []) for part in ("--filter", pattern)]

    started = time.monotonic()
    results: dict[str, list[dict]] = {}
    for name in configs:
        folder = out / name
        cli(["bench", *task_paths, *filters, "--model", args.model, "--attempts", str(args.attempts),
             "--max-steps", str(args.max_steps), "--timeout", str(args.timeout), "-j", str(args.jobs),
             "--out", str(folder), *CONFIGS[name]], env)
        results[name] = read_results(folder)
        print(f"{name}: {sum(bool(r.get('passed')) for r in results[name])}/{len(results[name])} passed "
              f"({time.monotonic() - started:.0f} s so far)", file=sys.stderr)

    rows = [row(name, results[name]) for name in configs]
    print(f"\nroles_gain: {args.model}, {len(results['off'])} attempts per configuration "
          f"({args.attempts} per task), max {args.max_steps} steps, {time.monotonic() - started:.0f} s in all\n")
    print("| config | passed | rate [95% CI] | called finish | tokens / solved | seconds / solved | tokens / attempt | "
          "seconds / attempt | reviews (sent back) | tools built (calls) | vs off: won / lost |")
    print("| --- |" + " --- |" * 10)
    for entry in rows:
        wins, losses = paired(results["off"], results[entry["config"]]) if entry["config"] != "off" else (0, 0)
        per = lambda value, digits=0: "-" if value is None else f"{value:,.{digits}f}"  # noqa: E731
        print(f"| {entry['config']} | {entry['passed']}/{entry['attempts']} | {entry['rate']:.0%} "
              f"[{entry['low']:.0%}, {entry['high']:.0%}] | {entry['finished']} | {per(entry['tokens_per_solved'])} | "
              f"{per(entry['seconds_per_solved'], 1)} | {per(entry['tokens_per_attempt'])} | "
              f"{per(entry['seconds_per_attempt'], 1)} | {entry['reviews']} ({entry['sent_back']}) | "
              f"{entry['tools_built']} ({entry['built_tool_calls']}) | "
              f"{'-' if entry['config'] == 'off' else f'{wins} / {losses}'} |")
    by_family: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for name in configs:
        for result in results[name]:
            cell = by_family[result.get("family") or result.get("category") or "?"][name]
            cell[0] += bool(result.get("passed"))
            cell[1] += 1
    print("\n| family | " + " | ".join(configs) + " |")
    print("| --- |" + " --- |" * len(configs))
    for family in sorted(by_family):
        cells = [f"{by_family[family][name][0]}/{by_family[family][name][1]}" for name in configs]
        print(f"| {family} | " + " | ".join(cells) + " |")
    (out / "roles_gain.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
