"""The task families: every module of gym/families that defines FAMILIES (a list of Family)."""

from __future__ import annotations

import functools
import importlib
import pkgutil

from ..errors import UsageError
from . import families as families_package
from .spec import Family


@functools.lru_cache(maxsize=1)
def all_families() -> dict[str, Family]:
    found: dict[str, Family] = {}
    for module in pkgutil.iter_modules(families_package.__path__):
        for family in getattr(importlib.import_module(f"{families_package.__name__}.{module.name}"), "FAMILIES", []):
            if family.name in found:
                raise RuntimeError(f"two task families are named {family.name}")
            found[family.name] = family
    return dict(sorted(found.items()))


def choose(names: list[str] | None) -> list[Family]:
    """The families named (all when none are), or one clear line naming the unknown ones."""
    known = all_families()
    if not names:
        return list(known.values())
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"no task family named {', '.join(unknown)}; `eval-agent tasks families` lists them")
    return [known[name] for name in dict.fromkeys(names)]
