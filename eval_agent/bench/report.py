"""The bench's results: results.jsonl (one line per attempt, appended and fsynced as each ends,
so a rerun can skip what is done) and summary.md (the pass rate with a 95% interval, then by
category, family and difficulty, then a row per attempt)."""

from __future__ import annotations

import json
import math
import os
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import UsageError

RESULTS = "results.jsonl"
SUMMARY = "summary.md"
META = "bench.json"
Z95 = 1.959963984540054


@dataclass
class AttemptResult:
    task: str
    attempt: int
    passed: bool
    reward: float | None
    steps: int
    tokens: int
    input_tokens: int
    output_tokens: int
    cost: float | None
    seconds: float
    run_id: str | None
    error: str | None  # the attempt could not be judged (image build, Docker, model endpoint, verifier)
    category: str = "uncategorized"
    status: str = ""  # the agent's outcome: finished | limit | error
    agent: str = ""
    model: str = ""
    record: str | None = None  # the trajectory file
    family: str = ""
    difficulty: str = ""


class ResultsFile:
    """results.jsonl in DIR: appended by worker threads, read back on a rerun."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / RESULTS
        self._lock = threading.Lock()

    def check_meta(self, meta: dict) -> None:
        """DIR holds one bench configuration: a rerun with another agent or model must use another DIR."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / META
        before = self.stored_meta()
        if before is not None:
            if before != meta:
                raise UsageError(f"{self.folder} holds results of {_describe(before)}, not {_describe(meta)}: "
                                 "pass another --out")
        else:
            path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")

    def stored_meta(self) -> dict | None:
        path = self.folder / META
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def append(self, result: AttemptResult) -> None:
        line = json.dumps(asdict(result), ensure_ascii=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())

    def load(self) -> list[AttemptResult]:
        """The latest result of each (task, attempt); lines cut short by a crash are skipped."""
        latest: dict[tuple[str, int], AttemptResult] = {}
        if not self.path.is_file():
            return []
        fields = AttemptResult.__dataclass_fields__
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                result = AttemptResult(**{k: v for k, v in data.items() if k in fields})
            except (ValueError, TypeError):
                continue
            latest[(result.task, result.attempt)] = result
        return sorted(latest.values(), key=lambda r: (r.task, r.attempt))


def _describe(meta: dict) -> str:
    return f"agent {meta.get('agent')}" + (f" with model {meta['model']}" if meta.get("model") else "")


def wilson_interval(passed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a pass rate: sound at 0 and at 100%, unlike p ± z·se."""
    if total == 0:
        return 0.0, 1.0
    p = passed / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_rate_line(passed: int, total: int) -> str:
    low, high = wilson_interval(passed, total)
    rate = passed / total if total else 0.0
    return f"{passed}/{total} = {rate:.1%} (95% interval {low:.1%} to {high:.1%})"


def write_summary(folder: Path, results: list[AttemptResult], meta: dict) -> Path:
    path = folder / SUMMARY
    path.write_text(summary_markdown(results, meta), encoding="utf-8")
    return path


def summary_markdown(results: list[AttemptResult], meta: dict) -> str:
    passed = sum(r.passed for r in results)
    by_task: dict[str, list[AttemptResult]] = defaultdict(list)
    for result in results:
        by_task[result.task].append(result)
    solved = sum(any(r.passed for r in attempts) for attempts in by_task.values())
    costs = [r.cost for r in results]
    cost = "unknown" if any(c is None for c in costs) else f"${sum(costs):.4f}"
    lines = [
        f"# eval-agent bench: {_describe(meta)}",
        "",
        f"- pass rate (attempts): {pass_rate_line(passed, len(results))}",
        f"- tasks solved in any attempt: {solved}/{len(by_task)}",
        f"- errors (not judged): {sum(r.error is not None for r in results)}",
        f"- steps {sum(r.steps for r in results)} · tokens {sum(r.tokens for r in results)} · cost {cost} · "
        f"{sum(r.seconds for r in results):.0f} s of attempts",
    ]
    for title, key in (("category", lambda r: r.category), ("family", lambda r: r.family or r.category),
                       ("difficulty", lambda r: r.difficulty or "unrated")):
        lines += _breakdown(title, results, key)
    lines += ["", "## Attempts", "",
              "| task | family | difficulty | attempt | result | reward | steps | tokens | seconds | run | error |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        verdict = "error" if r.error and not r.passed else ("pass" if r.passed else "fail")
        reward = "" if r.reward is None else f"{r.reward:g}"
        error = (r.error or "").replace("|", "\\|").replace("\n", " ")[:120]
        lines.append(f"| {r.task} | {r.family or r.category} | {r.difficulty} | {r.attempt} | {verdict} | {reward} | "
                     f"{r.steps} | {r.tokens} | {r.seconds:.1f} | {r.run_id or ''} | {error} |")
    return "\n".join(lines) + "\n"


def _breakdown(title: str, results: list[AttemptResult], key) -> list[str]:
    """A table of pass rates by `key` (category, family, difficulty), with 95% intervals."""
    groups: dict[str, list[AttemptResult]] = defaultdict(list)
    for result in results:
        groups[key(result)].append(result)
    lines = ["", f"## By {title}", "", f"| {title} | attempts | passed | pass rate | 95% interval |",
             "| --- | --- | --- | --- | --- |"]
    for name, group in sorted(groups.items()):
        count, wins = len(group), sum(r.passed for r in group)
        low, high = wilson_interval(wins, count)
        lines.append(f"| {name} | {count} | {wins} | {wins / count:.1%} | {low:.1%} to {high:.1%} |")
    return lines
