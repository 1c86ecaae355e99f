"""Settings: flags > environment (EVAL_AGENT_*) > config file > defaults.

The config file is TOML at EVAL_AGENT_CONFIG, else `config.toml` in the platform's user config
folder; its keys are the field names below (e.g. `model = "openai:gpt-4o-mini"`)."""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs

from .errors import UsageError
from .sandbox.base import DEFAULT_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT, MIN_COMMAND_TIMEOUT

ToolMode = Literal["native", "text", "json", "auto"]


@dataclass
class Settings:
    """Plain data, checked by load_settings (not a pydantic model: importing pydantic cost every
    command ~110 ms of start-up, for these two dozen fields)."""

    model: str | None = None
    base_url: str | None = None
    tool_mode: ToolMode = "auto"
    temperature: float | None = None
    model_timeout: float | None = None  # seconds a model call may take before it is retried (300)
    max_tokens: int | None = None  # the longest answer the model may write (its own default otherwise)
    max_steps: int = 50
    max_cost: float | None = None
    max_seconds: float | None = None
    # seconds a bash command gets when the model gives no timeout; the system prompt states it
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    sandbox: Literal["docker", "local"] = "docker"
    network: Literal["bridge", "none"] = "bridge"
    memory: str = "4g"
    cpus: float = 2.0
    pids_limit: int = 512
    image: str | None = None
    prompts: Path | None = None
    sandbox_env: list[str] = field(default_factory=list)  # names of host variables to pass into the sandbox
    review: Literal["off", "on"] = "off"  # a review turn before finish (see loop/review.py)
    reviewer_model: str | None = None  # the reviewer's model spec; the working model when unset
    max_reviews: int = 2  # review turns per request; after that finish is taken at its word
    make_tools: bool = False  # offer make_tool (tools kept in the workspace are offered anyway)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


# the ranges a number must lie in: (low, high, low bound included)
BOUNDS: dict[str, tuple[float | None, float | None, bool]] = {
    "model_timeout": (0, None, False),
    "command_timeout": (MIN_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT, True),
    "max_reviews": (0, None, True),
}
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class _Bad(ValueError):
    pass


def _coerce(value: Any, kind: Any) -> Any:
    """`value` (from TOML, the environment or a flag) as the type `kind`, or _Bad saying why not."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # X | None
        if value is None:
            return None
        return _coerce(value, next(arg for arg in args if arg is not type(None)))
    if typing.get_origin(kind) is Literal:
        if value not in args:
            raise _Bad(f"use {', '.join(args[:-1])} or {args[-1]}, not {value!r}")
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
            return value.strip().lower() in TRUE
        raise _Bad(f"use true or false, not {value!r}")
    if kind in (int, float):
        if isinstance(value, str):
            try:
                value = float(value.strip()) if kind is float else int(value.strip())
            except ValueError:
                raise _Bad(f"{value!r} is not a {'number' if kind is float else 'whole number'}") from None
        whole = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not whole):
            raise _Bad(f"{value!r} is not a {'number' if kind is float else 'whole number'}")
        return kind(value)
    if kind is str:
        if not isinstance(value, str):
            raise _Bad(f"{value!r} is not text")
        return value
    if kind is Path:
        if not isinstance(value, (str, Path)):
            raise _Bad(f"{value!r} is not a path")
        return Path(value)
    if typing.get_origin(kind) is list:  # of names: a list, or one string with commas
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
            raise _Bad(f"{value!r} is not a list of names")
        return [item.strip() for item in items if item.strip()]
    raise TypeError(f"no rule for {kind}")


def _checked(name: str, value: Any, kind: Any) -> Any:
    value = _coerce(value, kind)
    low, high, inclusive = BOUNDS.get(name, (None, None, True))
    if value is not None and low is not None and (value < low or (value == low and not inclusive)):
        raise _Bad(f"{value:g} is too small: use {'at least' if inclusive else 'more than'} {low:g}")
    if value is not None and high is not None and value > high:
        raise _Bad(f"{value:g} is too large: use at most {high:g}")
    return value


ENV_PREFIX = "EVAL_AGENT_"


def home() -> Path:
    """EVAL_AGENT_HOME, else the platform's user data folder: trajectories, history, models."""
    configured = os.environ.get("EVAL_AGENT_HOME")
    return Path(configured).expanduser() if configured else Path(platformdirs.user_data_dir("eval-agent"))


def config_path() -> Path:
    configured = os.environ.get("EVAL_AGENT_CONFIG")
    return Path(configured).expanduser() if configured else Path(platformdirs.user_config_dir("eval-agent")) / "config.toml"


def load_settings(flags: dict[str, Any] | None = None) -> Settings:
    values: dict[str, Any] = {}
    path = config_path()
    if path.is_file():
        try:
            values.update(tomllib.loads(path.read_text()))
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    kinds = typing.get_type_hints(Settings)
    for name in kinds:
        env_value = os.environ.get(ENV_PREFIX + name.upper())
        if env_value not in (None, ""):
            values[name] = env_value
    values.update({name: value for name, value in (flags or {}).items() if value is not None})
    checked = {}
    for name, value in values.items():
        if name not in kinds:  # only the config file can name one
            raise UsageError(f"bad setting {name} in {path}: there is no such setting; the settings are "
                             f"{', '.join(kinds)}")
        where = f"(from a flag, {ENV_PREFIX}{name.upper()} or {path})"
        try:
            checked[name] = _checked(name, value, kinds[name])
        except _Bad as exc:
            raise UsageError(f"bad setting {name}: {exc} {where}") from None
    return Settings(**checked)
