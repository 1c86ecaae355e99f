"""`eval-agent traj ls|show|replay|rate|reindex` and `eval-agent export`: thin; the work is in
store, reader, replay and export."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

traj_app = typer.Typer(help="List, show, replay, rate and reindex recorded runs (trajectories).", no_args_is_help=True)

StatusOpt = typer.Option(None, "--status", help="finished, limit, error, interrupted, incomplete or running (repeatable).")
VerifiedOpt = typer.Option(None, "--verified/--failed", help="Only runs whose tests passed (--verified) or failed (--failed).")
RatingOpt = typer.Option(None, "--rating", help="good, bad or unrated.")
ModelFilterOpt = typer.Option(None, "--model", help="Only runs whose PROVIDER:NAME contains this.")
SinceOpt = typer.Option(None, "--since", help="Runs started at or after: 2026-01-05, 2026-01-05T10:30, or an age: 30m, 12h, 3d.")
UntilOpt = typer.Option(None, "--until", help="Runs started before this (same forms as --since).")
TagOpt = typer.Option(None, "--tag", help="Only runs with this tag (repeatable: all of them).")
TaskOpt = typer.Option(None, "--task", help="Only runs of this bench task id.")
MinStepsOpt = typer.Option(None, "--min-steps", help="Only runs with at least this many steps.")
MaxStepsOpt = typer.Option(None, "--max-steps", help="Only runs with at most this many steps.")
FamilyOpt = typer.Option(None, "--family", help="Only runs of bench tasks of this family (repeatable: any of them).")
ExcludeFamilyOpt = typer.Option(None, "--exclude-family", help="Leave out runs of bench tasks of this family (repeatable).")


def _home() -> Path:
    from ..config import home

    return home()


def _run_filters(status, verified, rating, model, since, until, tag, task, min_steps, max_steps, family=None,
                 exclude_family=None):
    from .export.filters import RunFilters, parse_time

    return RunFilters(status=list(status or []), verified=verified, rating=rating, model=model,
                      since=parse_time(since, "--since") if since else None,
                      until=parse_time(until, "--until") if until else None,
                      tags=list(tag or []), task=task, min_steps=min_steps, max_steps=max_steps,
                      families=list(family or []), exclude_families=list(exclude_family or []))


@traj_app.command("ls")
def traj_ls(
    status: Optional[List[str]] = StatusOpt, verified: Optional[bool] = VerifiedOpt, rating: Optional[str] = RatingOpt,
    model: Optional[str] = ModelFilterOpt, since: Optional[str] = SinceOpt, until: Optional[str] = UntilOpt,
    tag: Optional[List[str]] = TagOpt, task: Optional[str] = TaskOpt, min_steps: Optional[int] = MinStepsOpt,
    max_steps: Optional[int] = MaxStepsOpt, family: Optional[List[str]] = FamilyOpt,
    exclude_family: Optional[List[str]] = ExcludeFamilyOpt,
    limit: int = typer.Option(50, "--limit", "-n", help="Show the latest N runs (0: all)."),
    json_output: bool = typer.Option(False, "--json", help="One JSON object per run on stdout (oldest first)."),
) -> None:
    """List recorded runs, oldest first (the latest --limit of them)."""
    from ..ui.terminal import console as terminal_console, json_line
    from .export.filters import select_runs
    from .show import runs_table
    from .store import open_store, summary_json, sync

    filters = _run_filters(status, verified, rating, model, since, until, tag, task, min_steps, max_steps, family,
                           exclude_family)
    with open_store(_home()) as store:
        sync(store)
        runs = select_runs(store.runs(), filters)
    shown = runs[-limit:] if limit > 0 else runs
    if json_output:
        for run in shown:
            print(json_line(summary_json(run)))
        return
    if not runs:
        print("no runs recorded" + (" match these filters" if filters.checks() else " yet"))
        return
    terminal_console().print(runs_table(shown))
    if len(shown) < len(runs):
        print(f"{len(shown)} of {len(runs)} runs shown (--limit 0 shows all)")


@traj_app.command("show")
def traj_show(
    run_id: str = typer.Argument(..., help="A run id, a unique prefix of one, or last."),
    full: bool = typer.Option(False, "--full", help="Show whole observations and thoughts, not their first and last lines."),
) -> None:
    """Show a run step by step: request, plan, each action with its output, the outcome."""
    from ..ui.terminal import console as terminal_console
    from .reader import load_run
    from .show import show

    show(load_run(_home(), run_id), terminal_console(), full=full)


@traj_app.command("replay")
def traj_replay(
    run_id: str = typer.Argument(..., help="A run id, a unique prefix of one, or last."),
    image: Optional[str] = typer.Option(None, "--image", help="Sandbox image to replay in (default: eval-agent's own)."),
) -> None:
    """Re-run a run's actions in a fresh sandbox (workspace at the run's base commit) and report which observations differ.

    No model is called. Exit codes: 0 every observation is the same, 1 some differ, 2 usage error, 3 environment error."""
    from rich.text import Text

    from ..ui.terminal import console as terminal_console
    from .reader import load_run
    from .replay import replay

    console = terminal_console()
    trajectory = load_run(_home(), run_id)

    def on_step(result) -> None:
        step = result.step
        verdict = Text(result.note, style="dim") if result.note else (
            Text("same", style="green") if result.same else Text("DIFFERS", style="bold red"))
        console.print(Text.assemble(f"step {step.number} {step.tool} ", verdict))
        for line in result.diff():
            console.print(Text("  " + line, style="red" if line.startswith("-") else "green" if line.startswith("+") else "dim"))

    console.print(f"replaying run {trajectory.run_id}: {len(trajectory.steps())} steps in a fresh sandbox")
    report = replay(trajectory, image=image, log=lambda line: console.print(Text(line, style="dim")), on_step=on_step)
    console.print(Text(report.workspace_note, style="dim"))
    differing = len(report.differing)
    console.print(f"{differing} of {len(report.steps)} observations differ" if differing
                  else f"all {len(report.steps)} observations are the same")
    raise typer.Exit(1 if differing else 0)


@traj_app.command("rate")
def traj_rate(
    run_id: str = typer.Argument(..., help="A run id, a unique prefix of one, or last."),
    rating: str = typer.Argument(..., help="good or bad."),
    comment: str = typer.Option("", "--comment", "-c", help="Why: kept with the rating."),
) -> None:
    """Rate a run good or bad (export --rating filters on it)."""
    from .store import rate_run

    summary = rate_run(_home(), run_id, rating, comment)
    print(f"rated {summary.run_id} {rating}" + (f": {comment}" if comment else ""))


@traj_app.command("reindex")
def traj_reindex() -> None:
    """Rebuild the run index from the trajectory files (after a crash, or files copied in)."""
    from .reader import TrajectoryError, read_summary
    from .recorder import trajectories_dir
    from .store import open_store

    home = _home()
    summaries, unreadable = [], []
    folder = trajectories_dir(home)
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        try:
            summaries.append(read_summary(path))
        except TrajectoryError as exc:
            unreadable.append(str(exc))
    with open_store(home) as store:
        store.replace_all(summaries)
    incomplete = sum(1 for summary in summaries if summary.status == "incomplete")
    print(f"indexed {len(summaries)} runs from {folder} ({incomplete} incomplete)")
    for line in unreadable:
        print(f"left out: {line}")


def export(
    format: str = typer.Option(..., "--format", "-f", help="openai (a .jsonl file), trl (a Hugging Face datasets folder), sharegpt or alpaca (LLaMA-Factory folders)."),
    out: Path = typer.Option(..., "--out", "-o", help="The file (openai) or folder (trl, sharegpt, alpaca) to write; an earlier export there is replaced."),
    status: Optional[List[str]] = StatusOpt, verified: Optional[bool] = VerifiedOpt, rating: Optional[str] = RatingOpt,
    model: Optional[str] = ModelFilterOpt, since: Optional[str] = SinceOpt, until: Optional[str] = UntilOpt,
    tag: Optional[List[str]] = TagOpt, task: Optional[str] = TaskOpt, min_steps: Optional[int] = MinStepsOpt,
    max_steps: Optional[int] = MaxStepsOpt, family: Optional[List[str]] = FamilyOpt,
    exclude_family: Optional[List[str]] = ExcludeFamilyOpt,
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Leave out conversations longer than this many tokens (as the model counted them)."),
    dedupe: bool = typer.Option(False, "--dedupe", help="Keep one run per request and action sequence (the first)."),
    max_per_task: Optional[int] = typer.Option(None, "--max-per-task", help="At most N runs per bench task (the first N)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Write at most N trajectories."),
    val_ratio: float = typer.Option(0.0, "--val-ratio", help="trl: this share of runs goes to a test split (by a seeded hash of the run id)."),
    seed: int = typer.Option(0, "--seed", help="trl: the seed of the split."),
    role: str = typer.Option("agent", "--role", help="agent: the working model's conversations; reviewer: the review turns before finish, one example each (to train a reviewer)."),
    weight_failed_steps: Optional[int] = typer.Option(None, "--weight-failed-steps", help="openai: put this weight (0 or 1) on assistant turns whose action failed."),
) -> None:
    """Export recorded runs as a fine-tuning dataset, secrets redacted and scanned (detect-secrets).

    Every record passes the redaction gate; if detect-secrets still finds a secret, nothing is written and the run and field are named (exit code 1)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..ui.terminal import console as terminal_console
    from .export import ExportOptions, TrajectoryFilters, export_runs

    options = ExportOptions(
        format=format, out=out, run_filters=_run_filters(status, verified, rating, model, since, until, tag, task,
                                                         min_steps, max_steps, family, exclude_family),
        trajectory_filters=TrajectoryFilters(max_tokens=max_tokens, dedupe=dedupe, max_per_task=max_per_task, limit=limit),
        val_ratio=val_ratio, seed=seed, weight_failed_steps=weight_failed_steps, role=role)
    progress = Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=terminal_console(stderr=True), transient=True)
    task_id = None

    def on_selected(count: int) -> None:
        nonlocal task_id
        if count >= 200:  # a bar only where there is something to wait for
            progress.start()
            task_id = progress.add_task("export", total=count)

    def on_progress() -> None:
        if task_id is not None:
            progress.advance(task_id)

    try:
        summary = export_runs(_home(), options, on_selected=on_selected, on_progress=on_progress)
    finally:
        progress.stop()
    for line in summary.lines():
        print(line)


def register(app: typer.Typer) -> None:
    app.add_typer(traj_app, name="traj")
    app.command("export")(export)
