"""eval-agent: a terminal coding agent whose every run becomes training data."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["run", "Session", "RunResult", "load_settings", "__version__"]


def __getattr__(name: str):
    # the API is imported on first use, so `import eval_agent` (and the CLI's start) stays fast
    if name in ("run", "Session", "RunResult", "load_settings"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
