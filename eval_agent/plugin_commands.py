"""`eval-agent plugins`: the tools, model providers, export formats and task sources installed, by
entry point group, with the package each comes from (the built-ins are eval-agent's own)."""

from __future__ import annotations

import typer


def plugins_command(
    check: bool = typer.Option(False, "--check", help="Also import each plugin in use and say which fail (exit 1)."),
) -> None:
    """List installed plugins by group: name, package, and what the entry point names."""
    from . import plugins

    failures = 0
    for group in plugins.GROUPS:
        rows = plugins.entries(group)
        print(group)
        width = max((len(plugin.name) for plugin, _ in rows), default=0)
        wheres = [f"{plugin.distribution} {plugin.version}".strip() + (" (built in)" if plugin.builtin else "")
                  for plugin, _ in rows]
        where_width = max(map(len, wheres), default=0)
        for (plugin, winner), where in zip(rows, wheres):
            note = ""
            if winner is not None:  # listed so that a user sees why theirs is not the one used
                note = f"  ignored: the name is {'built in' if winner.builtin else winner.distribution + chr(39) + 's'}"
            elif check:
                try:
                    plugin.load()
                    note = "  ok"
                except plugins.PluginError as exc:
                    failures += 1
                    note = f"  FAILED: {exc}"
            print(f"  {plugin.name:<{width}}  {where:<{where_width}}  {plugin.value}{note}")
    raise typer.Exit(1 if failures else 0)


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins_command)
