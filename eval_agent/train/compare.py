"""`eval-agent compare`: the same tasks, K attempts each, for two (or more) models, paired; a table
of pass rates with their 95% intervals, tokens and seconds per solved task, and each model's
difference with the first, with a 95% interval from a paired bootstrap over the tasks.

A model with an adapter (`...+NAME`) is never measured on a task it was trained on: such tasks are
refused by name. When one is measured against its base, the result goes into its card."""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ..bench.report import AttemptResult, wilson_interval
from ..bench.runner import BenchOptions, run_bench
from ..bench.tasks import Task
from ..config import Settings
from ..errors import UsageError
from .adapters import adapter, split_spec

BOOTSTRAP = 10_000


@dataclass
class ModelScore:
    model: str
    attempts: int
    passed: int
    rate: float
    low: float
    high: float
    tokens_per_solved: float | None
    seconds_per_solved: float | None
    difference: float | None = None  # with the first model, in points of pass rate
    difference_low: float | None = None
    difference_high: float | None = None


def trained_on(model: str) -> set[str]:
    """The bench tasks an adapter's training runs came from (none for a model without one)."""
    if not model.startswith("local"):
        return set()
    _, name = split_spec(model[len("local"):].lstrip(":"))
    return set((adapter(name).card.get("data") or {}).get("tasks") or []) if name else set()


def compare(tasks: list[Task], models: list[str], settings: Settings, out: Path, attempts: int = 2,
            jobs: int = 1, seed: int = 0, timeout: float | None = None) -> list[ModelScore]:
    if len(models) < 2:
        raise UsageError("compare needs two models at least: --model A --model B")
    ids = {task.id for task in tasks}
    for model in models:
        overlap = sorted(ids & trained_on(model))
        if overlap:
            raise UsageError(f"{model} was trained on {len(overlap)} of these tasks ({', '.join(overlap[:5])}"
                             f"{' ...' if len(overlap) > 5 else ''}): measure it on tasks it has not seen")
    results = {}
    for model in models:
        folder = out / re.sub(r"[^A-Za-z0-9._-]+", "-", model)
        options = BenchOptions(out=folder, agent="eval", jobs=jobs, attempts=attempts, timeout=timeout)
        found, _ = run_bench(tasks, settings.replace(model=model), options)
        results[model] = found
    scores = [score(model, results[model]) for model in models]
    first = results[models[0]]
    for other, found in zip(scores[1:], [results[m] for m in models[1:]]):
        other.difference, other.difference_low, other.difference_high = paired_difference(first, found, seed)
    text = table(scores, len(tasks), attempts)
    (out / "compare.json").write_text(json.dumps([asdict(s) for s in scores], indent=1) + "\n")
    (out / "compare.md").write_text(text + "\n")
    _into_cards(models, scores, text, sorted(ids), attempts)
    return scores


def _into_cards(models: list[str], scores: list[ModelScore], text: str, tasks: list[str], attempts: int) -> None:
    """A model with an adapter measured against its own base: the result goes into its card."""
    from .finetune import write_card

    for model, found in zip(models[1:], scores[1:]):
        base, name = split_spec(model)
        if name and base == models[0]:
            tuned = adapter(name)
            card = tuned.card
            card["evaluation"] = {"against": models[0], "tasks": tasks, "attempts": attempts, "table": text,
                                  "scores": [asdict(scores[0]), asdict(found)]}
            write_card(tuned, card)


def score(model: str, results: list[AttemptResult]) -> ModelScore:
    passed = [r for r in results if r.passed]
    low, high = wilson_interval(len(passed), len(results))
    per = (lambda total: total / len(passed)) if passed else (lambda total: None)
    return ModelScore(model, len(results), len(passed), len(passed) / len(results) if results else 0.0, low, high,
                      per(sum(r.tokens for r in results)), per(sum(r.seconds for r in results)))


def paired_difference(first: list[AttemptResult], second: list[AttemptResult], seed: int = 0
                      ) -> tuple[float, float, float]:
    """The second's pass rate minus the first's, with a 95% interval from resampling the tasks
    (each task's attempts stay together: the two models were measured on the same tasks)."""
    def rates(results):
        by_task: dict[str, list[bool]] = {}
        for r in results:
            by_task.setdefault(r.task, []).append(r.passed)
        return {task: sum(values) / len(values) for task, values in by_task.items()}

    a, b = rates(first), rates(second)
    tasks = sorted(set(a) & set(b))
    if not tasks:
        return 0.0, 0.0, 0.0
    gaps = [b[task] - a[task] for task in tasks]
    rng = random.Random(seed)
    means = sorted(sum(rng.choice(gaps) for _ in gaps) / len(gaps) for _ in range(BOOTSTRAP))
    return sum(gaps) / len(gaps), means[int(0.025 * BOOTSTRAP)], means[int(0.975 * BOOTSTRAP) - 1]


def table(scores: list[ModelScore], tasks: int, attempts: int) -> str:
    def points(value: float | None) -> str:
        return "" if value is None else f"{value * 100:+.1f}"

    lines = [f"{tasks} tasks x {attempts} attempts", "",
             "| model | passed | pass rate | 95% interval | tokens per solved | seconds per solved | "
             "difference | 95% interval |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in scores:
        interval = (f"{points(s.difference_low)} to {points(s.difference_high)}"
                    if s.difference is not None else "")
        lines.append(f"| {s.model} | {s.passed}/{s.attempts} | {s.rate:.1%} | {s.low:.1%} to {s.high:.1%} | "
                     f"{'' if s.tokens_per_solved is None else f'{s.tokens_per_solved:.0f}'} | "
                     f"{'' if s.seconds_per_solved is None else f'{s.seconds_per_solved:.1f}'} | "
                     f"{points(s.difference)} | {interval} |")
    return "\n".join(lines)
