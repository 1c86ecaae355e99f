"""`eval-agent finetune` and `eval-agent compare`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..trajectory.commands import (ExcludeFamilyOpt, FamilyOpt, MaxStepsOpt, MinStepsOpt, ModelFilterOpt, RatingOpt,
                                   SinceOpt, StatusOpt, TagOpt, TaskOpt, UntilOpt, VerifiedOpt, _home, _run_filters)


def finetune(
    out: str = typer.Option(..., "--out", "-o", help="The adapter's name: it goes to $EVAL_AGENT_HOME/adapters/NAME."),
    data: Optional[Path] = typer.Argument(None, help="A `trl` export folder to train on its runs (default: the runs the filters choose)."),
    base: str = typer.Option("local", "--base", help="local (the embedded model), local:NAME, a .gguf file or a Hugging Face folder."),
    status: Optional[List[str]] = StatusOpt, verified: Optional[bool] = VerifiedOpt, rating: Optional[str] = RatingOpt,
    model: Optional[str] = ModelFilterOpt, since: Optional[str] = SinceOpt, until: Optional[str] = UntilOpt,
    tag: Optional[List[str]] = TagOpt, task: Optional[str] = TaskOpt, min_steps: Optional[int] = MinStepsOpt,
    max_steps: Optional[int] = MaxStepsOpt, family: Optional[List[str]] = FamilyOpt,
    exclude_family: Optional[List[str]] = ExcludeFamilyOpt,
    epochs: float = typer.Option(2.0, "--epochs", help="Passes over the runs (a fraction is allowed)."),
    lr: float = typer.Option(2e-4, "--lr", help="Peak learning rate (cosine schedule, short warm-up)."),
    rank: int = typer.Option(16, "--rank", help="LoRA rank, on the attention and MLP projections."),
    alpha: int = typer.Option(32, "--alpha", help="LoRA alpha: the update is scaled by alpha/rank."),
    max_tokens: int = typer.Option(8192, "--max-tokens", help="Leave out runs longer than this (in the base's tokens)."),
    val_ratio: float = typer.Option(0.0, "--val-ratio", help="This share of runs is held out for an eval loss (by a seeded hash of the run id)."),
    seed: int = typer.Option(0, "--seed", help="Seeds the shuffling, the LoRA init and the held-out split."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present, bf16), cpu (fp32) or cuda."),
    resume: bool = typer.Option(False, "--resume", help="Go on from the adapter's last checkpoint (after Ctrl-C, say)."),
    evaluate: Optional[List[Path]] = typer.Option(None, "--eval", help="Then compare base and base+adapter on these held-out tasks."),
    attempts: int = typer.Option(2, "--attempts", help="With --eval: attempts per task and model."),
) -> None:
    """Train a LoRA adapter on recorded runs (e.g. --verified), rendered exactly as the served model sees them.

    The loss falls on what the model wrote only: its thoughts and actions. Writes the PEFT adapter, a llama.cpp adapter (GGUF) and a card (base and its sha256, the runs, the settings, the loss curve) to $EVAL_AGENT_HOME/adapters/NAME/. Run with it: --model local+NAME. Ctrl-C saves and stops; --resume goes on."""
    from ..errors import UsageError
    from ..ui.terminal import console
    from .adapters import check_name
    from .finetune import FinetuneRequest, finetune as run_finetune, serving_spec
    from .lora import TrainOptions

    if device not in ("auto", "cpu", "cuda"):
        raise UsageError(f"--device {device}: use auto, cpu or cuda")
    check_name(out)
    screen = console(stderr=True)

    def on_step(result) -> None:
        step, loss = result.losses[-1]
        left = (result.seconds / step * (result.total_steps - step)) if step else 0
        screen.print(f"step {step}/{result.total_steps} · loss {loss:.4f} · {result.tokens_per_second:.0f} tokens/s"
                     f" · {left / 60:.1f} min left", markup=False, highlight=False)

    options = TrainOptions(epochs=epochs, lr=lr, rank=rank, alpha=alpha, max_tokens=max_tokens, val_ratio=val_ratio,
                           seed=seed, device=device)
    request = FinetuneRequest(out, base, _run_filters(status, verified, rating, model, since, until, tag, task,
                                                      min_steps, max_steps, family, exclude_family), data, options,
                              resume)
    tuned = run_finetune(_home(), request, log=lambda line: screen.print(line, markup=False, highlight=False),
                         on_step=on_step)
    card = tuned.card
    typer.echo(f"adapter {tuned.name}: {tuned.folder} ({card['training']['steps']} steps, "
               f"final loss {card['training']['loss'][-1][1]:.4f})" if card["training"]["loss"] else f"adapter {tuned.name}")
    serve = serving_spec(card["base"]["spec"], card["base"]["file"], tuned.name)
    if card["training"]["interrupted"]:
        typer.echo("stopped by Ctrl-C: the adapter holds what was learnt so far; --resume goes on")
        raise typer.Exit(130)
    if evaluate and serve:
        baseline = serve.rsplit("+", 1)[0]  # the base as served, without the adapter
        _compare(evaluate, [baseline, serve], attempts, 1, None)


def compare(
    paths: List[Path] = typer.Argument(..., help="Task folders, or folders of them: the held-out tasks."),
    models: List[str] = typer.Option(..., "--model", "-m", help="A model spec; give two or more (the first is the baseline)."),
    attempts: int = typer.Option(2, "--attempts", help="Attempts per task and model."),
    jobs: int = typer.Option(1, "--jobs", "-j"),
    out: Optional[Path] = typer.Option(None, "--out", help="Where the benches and compare.md go (default: bench-results/compare)."),
    filters: Optional[List[str]] = typer.Option(None, "--filter", help="Only the tasks whose id matches this glob."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Tool calls per attempt (default 50)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="The agent's seconds per attempt (default: the task's own)."),
) -> None:
    """The same tasks, K attempts each, for two models, paired: pass rates with 95% intervals, tokens and seconds per solved task, and the difference with its interval. Refuses tasks an adapter was trained on."""
    _compare(paths, models, attempts, jobs, out, filters, max_steps, timeout)


def _compare(paths, models, attempts, jobs, out, filters=None, max_steps=None, timeout=None) -> None:
    from ..bench.tasks import discover
    from ..config import load_settings
    from .compare import compare as run_compare, table

    tasks = discover(list(paths), filters)
    folder = out or Path("bench-results") / "compare"
    scores = run_compare(tasks, list(models), load_settings({"max_steps": max_steps}), folder, attempts=attempts,
                         jobs=jobs, timeout=timeout)
    typer.echo(table(scores, len(tasks), attempts))
    typer.echo(f"\ncompare: {folder / 'compare.md'}")


def register(app: typer.Typer) -> None:
    app.command("finetune")(finetune)
    app.command("compare")(compare)
