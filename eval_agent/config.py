"""Settings: flags > environment (EVAL_AGENT_*) > config file > defaults.

The config file is TOML at EVAL_AGENT_CONFIG, else `config.toml` in the platform's user config
folder; its keys are the field names below (e.g. `model = "openai:gpt-4o-mini"`)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, Field, ValidationError

from .errors import UsageError
from .sandbox.base import DEFAULT_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT, MIN_COMMAND_TIMEOUT

ToolMode = Literal["native", "text", "json", "auto"]


class Settings(BaseModel, extra="forbid"):
    model: str | None = None
    base_url: str | None = None
    tool_mode: ToolMode = "auto"
    temperature: float | None = None
    model_timeout: float | None = Field(None, gt=0)  # seconds a model call may take before it is retried (300)
    max_tokens: int | None = None  # the longest answer the model may write (its own default otherwise)
    max_steps: int = 50
    max_cost: float | None = None
    max_seconds: float | None = None
    # seconds a bash command gets when the model gives no timeout; the system prompt states it
    command_timeout: float = Field(DEFAULT_COMMAND_TIMEOUT, ge=MIN_COMMAND_TIMEOUT, le=MAX_COMMAND_TIMEOUT)
    sandbox: Literal["docker", "local"] = "docker"
    network: Literal["bridge", "none"] = "bridge"
    memory: str = "4g"
    cpus: float = 2.0
    pids_limit: int = 512
    image: str | None = None
    prompts: Path | None = None
    sandbox_env: list[str] = []  # names of host variables to pass into the sandbox
    review: Literal["off", "on"] = "off"  # a review turn before finish (see loop/review.py)
    reviewer_model: str | None = None  # the reviewer's model spec; the working model when unset
    max_reviews: int = Field(2, ge=0)  # review turns per request; after that finish is taken at its word
    make_tools: bool = False  # offer make_tool (tools kept in the workspace are offered anyway)


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
    for name in Settings.model_fields:
        env_value = os.environ.get(ENV_PREFIX + name.upper())
        if env_value not in (None, ""):
            values[name] = env_value.split(",") if name == "sandbox_env" else env_value
    values.update({name: value for name, value in (flags or {}).items() if value is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise UsageError(f"bad setting {where}: {error['msg']} (from a flag, {ENV_PREFIX}{where.upper()} or {path})") from None
