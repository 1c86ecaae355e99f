"""Plugins: tools, model providers, export formats and task sources, found through entry points.
The built-ins come through the same door (eval-agent's own pyproject.toml), so a new one of any
kind is one module and one line:

    [project.entry-points."eval_agent.tools"]
    word_count = "my_package.word_count:WordCountTool"

What each group's entry point names:

    eval_agent.tools           a class or factory, called with no arguments -> a Tool (tools/base.py)
    eval_agent.models          factory(name, *, base_url, api_key, log, **params) -> a Model
                               (models/base.py); the entry point's name is PROVIDER in --model PROVIDER:NAME
    eval_agent.export_formats  a writer class, as trajectory/export/openai.py; the name is --format's
    eval_agent.task_sources    a class or factory, called with no arguments -> an object with `name`,
                               detect(folder) -> bool and load(folder) -> Task (bench/tasks.py)

Loading is lazy: listing and lookup read package metadata only; a plugin's module is imported
when that plugin is used, so `--model scripted` never imports the openai provider.

Two entry points with one name in one group: eval-agent's built-in wins (an installed package
cannot quietly replace `bash` or `openai`); between two packages, the distribution first in
name order wins. The one left out is named in a warning on stderr, once per process.

A plugin that fails to import, or gives the wrong kind of object, is one line naming the plugin
and its distribution (PluginError: an environment problem, exit code 3), never a traceback."""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable

from . import __version__
from .errors import EnvironmentProblem, EvalAgentError

TOOLS = "eval_agent.tools"
MODELS = "eval_agent.models"
EXPORT_FORMATS = "eval_agent.export_formats"
TASK_SOURCES = "eval_agent.task_sources"
GROUPS = (TOOLS, MODELS, EXPORT_FORMATS, TASK_SOURCES)
KINDS = {TOOLS: "tool", MODELS: "model provider", EXPORT_FORMATS: "export format", TASK_SOURCES: "task source"}
BUILTIN = "eval-agent"  # the distribution whose entry points are the built-ins


class PluginError(EnvironmentProblem):
    """An installed plugin is broken: it does not import, or gives the wrong kind of object."""


@dataclass(frozen=True)
class Plugin:
    group: str
    name: str
    value: str  # "module:attribute"
    distribution: str
    version: str

    @property
    def builtin(self) -> bool:
        return self.distribution == BUILTIN

    @property
    def label(self) -> str:
        """How errors name it: `tool plugin 'word_count' (from word-count-tool 0.1)`."""
        where = "built in" if self.builtin else f"from {self.distribution} {self.version}".rstrip()
        return f"{KINDS.get(self.group, self.group)} plugin {self.name!r} ({where})"

    def load(self) -> Any:
        """The object the entry point names, imported now."""
        module_name, _, attribute = self.value.partition(":")
        try:
            # __import__, not importlib.import_module: only the import statement's path is what
            # `python -X importtime` reports, and start-up time is measured with it
            __import__(module_name.strip())
            found: Any = sys.modules[module_name.strip()]
            for part in filter(None, attribute.strip().split(".")):
                found = getattr(found, part)
        except Exception as exc:  # any failure inside a plugin's import is the plugin's
            if self.builtin:  # ours failing to import is a bug: keep the traceback
                raise
            raise PluginError(f"{self.label} does not load ({self.value}): {_one_line(exc)}") from None
        return found

    def call(self, factory: Any, *args: Any, **kwargs: Any) -> Any:
        """factory(*args, **kwargs); a plugin's own crash becomes one line. Our own errors (a bad
        model name, say) pass as they are; a built-in's crash is a bug and keeps its traceback."""
        if self.builtin:
            return factory(*args, **kwargs)
        try:
            return factory(*args, **kwargs)
        except EvalAgentError:
            raise
        except Exception as exc:
            raise PluginError(f"{self.label} failed ({self.value}): {_one_line(exc)}") from None

    def expect(self, obj: Any, what: str, attributes: Iterable[str]) -> Any:
        """`obj` when it has every one of `attributes`; else the one line that says it does not."""
        missing = [name for name in attributes if not hasattr(obj, name)]
        if missing:
            raise PluginError(f"{self.label} gave {type(obj).__name__}, not {what} "
                              f"(it has no {', '.join(missing)}; see {self.value})")
        return obj


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def _all_entries() -> dict[str, tuple[Plugin, ...]]:
    """Every entry point of our groups, read once per process (a few ms: metadata only). As
    importlib.metadata.entry_points does, the first copy of a distribution on sys.path counts,
    except that a copy of eval-agent with none of our groups is passed over: in a checkout, a
    stale eval_agent.egg-info in the current folder would otherwise hide the installed built-ins."""
    from importlib.metadata import distributions

    found: dict[str, list[Plugin]] = {group: [] for group in GROUPS}
    seen: set[str] = set()
    for dist in distributions():
        # the name from the folder's name where it can (parsing every METADATA file costs ~50 ms)
        name = _normalize(getattr(dist, "_normalized_name", None) or dist.metadata["Name"] or "")
        if not name or name in seen:
            continue
        ours = [entry for entry in dist.entry_points if entry.group in found]
        if name == BUILTIN and not ours:
            continue
        seen.add(name)
        if not ours:
            continue
        version = __version__ if name == BUILTIN else (dist.version or "")  # ours: a 30 kB METADATA
        for entry in ours:
            found[entry.group].append(Plugin(entry.group, entry.name, entry.value, name, version))
    return {group: tuple(plugins) for group, plugins in found.items()}


def entries(group: str) -> list[tuple[Plugin, Plugin | None]]:
    """Every entry point of `group` with the one it lost to (None: it is the one used), for
    `eval-agent plugins`."""
    winners = {plugin.name: plugin for plugin in _resolve(group)}
    everything = sorted(_all_entries()[group], key=lambda p: (p.name, not p.builtin, p.distribution))
    return [(plugin, None if winners.get(plugin.name) is plugin else winners.get(plugin.name))
            for plugin in everything]


@functools.cache
def _resolve(group: str) -> tuple[Plugin, ...]:
    """One plugin per name: the built-in, else the first distribution in name order; the others
    are named in a warning."""
    found = _all_entries()[group]
    if not any(plugin.builtin for plugin in found):  # metadata written before the built-ins moved here
        raise PluginError(f"eval-agent's installed metadata lists no built-in {KINDS[group]}s: "
                          "reinstall eval-agent (pip install -e . in a checkout)")
    chosen: dict[str, Plugin] = {}
    for plugin in sorted(found, key=lambda p: (not p.builtin, p.distribution, p.value)):
        taken = chosen.get(plugin.name)
        if taken is None:
            chosen[plugin.name] = plugin
        elif taken != plugin:  # the same entry seen twice (a path listed twice) is no conflict
            print(f"eval-agent: warning: {plugin.label} is ignored: the name is taken by "
                  f"{'the built-in' if taken.builtin else taken.distribution}", file=sys.stderr)
    return tuple(chosen.values())


def plugins(group: str, order: Iterable[str] = ()) -> list[Plugin]:
    """The plugins of `group`, one per name: those named in `order` first in that order (entry
    point metadata is sorted by name, so a registry says the order it wants), then built-ins,
    then the rest, by name."""
    rank = {name: index for index, name in enumerate(order)}
    return sorted(_resolve(group), key=lambda p: (rank.get(p.name, len(rank)), not p.builtin, p.name))


def names(group: str, order: Iterable[str] = ()) -> list[str]:
    return [plugin.name for plugin in plugins(group, order)]


def find(group: str, name: str) -> Plugin | None:
    return next((plugin for plugin in _resolve(group) if plugin.name == name), None)


def refresh() -> None:
    """Forget what was read (after installing a package into this very process's path)."""
    _all_entries.cache_clear()
    _resolve.cache_clear()
