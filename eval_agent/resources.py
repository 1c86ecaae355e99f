"""Where the shipped files are: prompt templates and the sandbox image's build context.

In a wheel they are the data packages eval_agent._prompts and eval_agent._sandbox_image (mapped
from prompts/ and sandbox/ by pyproject.toml); in an editable checkout, the folders themselves.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _shipped(package: str, checkout_folder: str) -> Path:
    # data folders without __init__.py are namespace packages: take their one location
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return _CHECKOUT / checkout_folder


def prompts_dir() -> Path:
    return _shipped("eval_agent._prompts", "prompts")


def sandbox_image_dir() -> Path:
    return _shipped("eval_agent._sandbox_image", "sandbox")
