"""`eval-agent tasks`: generate verified tasks, validate any task folder, count what a folder holds,
list the families, and have a model synthesise more."""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import List, Optional

import typer

tasks_app = typer.Typer(help="The gym: generate verified tasks, validate and count task folders.", no_args_is_help=True)


def _say(line: str) -> None:
    from ..ui.terminal import console

    console(stderr=True).print(line, markup=False, highlight=False, soft_wrap=True)


@tasks_app.command("generate")
def tasks_generate(
    out: Path = typer.Option(..., "--out", "-o", help="The folder to write the tasks into (one folder per task, Harbor layout)."),
    count: int = typer.Option(..., "-n", "--count", help="How many tasks."),
    seed: int = typer.Option(0, "--seed", help="The same seed gives the same tasks."),
    family: Optional[List[str]] = typer.Option(None, "--family", help="Only these families (repeatable; default: all, in turn)."),
    difficulty: Optional[List[str]] = typer.Option(None, "--difficulty", help="easy, medium or hard (repeatable; default: all, in turn)."),
    jobs: int = typer.Option(2, "--jobs", "-j", help="Tasks validated at the same time, each in its own container."),
    no_validate: bool = typer.Option(False, "--no-validate", help="Write without checking (not for training data: a task may be unsound)."),
) -> None:
    """Generate N tasks from the shipped families, offline, each validated before it is written:
    its solution passes its tests and doing nothing fails them. A rerun into DIR makes only what is missing."""
    from .generate import generate

    started = time.monotonic()
    report = generate(out, count, seed, family, difficulty, jobs=jobs, validate=not no_validate, log=_say)
    minutes = (time.monotonic() - started) / 60
    rate = f" ({len(report.written) / minutes:.0f} a minute)" if report.written and minutes > 0 else ""
    typer.echo(f"wrote {len(report.written)} tasks to {out}{rate}" + (f", kept {len(report.kept)} already there"
                                                                     if report.kept else ""))
    if report.invalid_draws:
        typer.echo(f"{len(report.invalid_draws)} draws failed validation and were drawn again")
    for verdict in report.failed:
        typer.echo(f"could not make {verdict.task}: {verdict.problem}")
    raise typer.Exit(1 if report.failed else 0)


@tasks_app.command("validate")
def tasks_validate(
    paths: List[Path] = typer.Argument(..., help="Task folders, or folders of them (Harbor or Terminal-Bench 1.x)."),
    filters: Optional[List[str]] = typer.Option(None, "--filter", help="Only the tasks whose id matches this shell glob."),
    jobs: int = typer.Option(2, "--jobs", "-j", help="Tasks checked at the same time."),
    base_image: Optional[str] = typer.Option(None, "--base-image", help="Build on this image where a FROM image cannot be had (as for bench)."),
) -> None:
    """Check each task: doing nothing fails its tests, its solution passes them. Each in fresh containers; nothing is recorded.

    Exit codes: 0 every task is sound, 1 some are not, 2 usage error, 3 environment error."""
    from ..bench.tasks import discover
    from .validate import Validator

    tasks = discover(paths, filters)
    verdicts = Validator(base_image, separate=True).check_all(
        tasks, jobs, on_verdict=lambda v: typer.echo(f"{'ok  ' if v.ok else 'BAD '} {v.task}"
                                                     + (f": {v.problem}" if v.problem else "")))
    bad = [v for v in verdicts if not v.ok]
    typer.echo(f"{len(verdicts) - len(bad)} of {len(verdicts)} tasks are sound")
    raise typer.Exit(1 if bad else 0)


@tasks_app.command("ls")
def tasks_ls(
    paths: List[Path] = typer.Argument(..., help="Task folders, or folders of them."),
) -> None:
    """Count the tasks by family, category and difficulty."""
    from rich.table import Table

    from ..bench.tasks import discover
    from ..ui.terminal import console

    tasks = discover(paths)
    for title, key in (("family", lambda t: t.family), ("category", lambda t: t.category),
                       ("difficulty", lambda t: t.difficulty or "unrated")):
        counts = collections.Counter(key(task) for task in tasks)
        table = Table(title, "tasks", box=None, padding=(0, 2, 0, 0))
        for name, number in sorted(counts.items()):
            table.add_row(name, str(number))
        console().print(table)
        console().print()
    typer.echo(f"{len(tasks)} tasks")


@tasks_app.command("families")
def tasks_families() -> None:
    """The task families `generate` draws from."""
    from rich.table import Table

    from ..ui.terminal import console
    from .registry import all_families

    table = Table("family", "category", "what its tasks ask", box=None, padding=(0, 2, 0, 0))
    for family in all_families().values():
        table.add_row(family.name, family.category, family.summary)
    console().print(table)


@tasks_app.command("synthesize")
def tasks_synthesize(
    source: str = typer.Option(..., "--from", help="A folder of tasks to write new ones like, or a description of the tasks to write."),
    out: Path = typer.Option(..., "--out", "-o", help="The folder to write the kept tasks into."),
    count: int = typer.Option(..., "-n", "--count", help="How many tasks to ask for (only the sound ones are kept)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="PROVIDER:NAME of the model that writes them (as for run)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="An OpenAI-compatible endpoint; default OPENAI_BASE_URL."),
    seed: int = typer.Option(0, "--seed", help="Which examples are drawn, and the tasks' names."),
    jobs: int = typer.Option(2, "--jobs", "-j", help="Tasks validated at the same time."),
) -> None:
    """A model writes new tasks (a bug injected into working code with a test that catches it, or a small feature with
    its tests and solution); each is validated like a generated one and kept only when it is sound."""
    from ..config import load_settings
    from ..models.registry import load_model
    from ..session import choose_model_spec
    from .synthesize import synthesize

    settings = load_settings({name: value for name, value in (("model", model), ("base_url", base_url)) if value})
    writer = load_model(choose_model_spec(settings), base_url=settings.base_url, log=_say)
    report = synthesize(writer, source, out, count, seed=seed, jobs=jobs, log=_say)
    typer.echo(f"kept {len(report.kept)} of {count} tasks in {out}; {len(report.rejected)} were not sound, "
               f"{len(report.unreadable)} never came as a usable answer")
    raise typer.Exit(0 if report.kept else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(tasks_app, name="tasks")
