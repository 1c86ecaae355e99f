"""`eval-agent doctor`: one line per thing eval-agent needs, and whether it is there."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from .config import Settings, home
from .errors import EvalAgentError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings) -> list[Check]:
    checks = [_docker()]
    if checks[0].ok:
        checks.append(_image())
    checks.append(_model(settings))
    checks.append(_data_folder())
    return checks


def _docker() -> Check:
    from .sandbox.engine import docker_client

    try:
        version = docker_client().version()
    except EvalAgentError as exc:
        return Check("docker engine", False, str(exc))
    return Check("docker engine", True, f"Docker {version.get('Version')} (API {version.get('ApiVersion')})")


def _image() -> Check:
    from .sandbox.image import image_status

    status = image_status()
    if not status["exists"]:
        return Check("sandbox image", False, f"{status['tag']} is missing: run `eval-agent sandbox build`")
    if not status["up_to_date"]:
        return Check("sandbox image", False, f"{status['tag']} is out of date: run `eval-agent sandbox build`")
    return Check("sandbox image", True, f"{status['tag']} ({status['size'] / 1e6:.0f} MB)")


def _model(settings: Settings) -> Check:
    from .models.registry import probe_model
    from .session import choose_model_spec

    try:
        spec = choose_model_spec(settings)
        detail = probe_model(spec, base_url=settings.base_url)
    except EvalAgentError as exc:
        return Check("model", False, str(exc))
    return Check("model", True, f"{spec}: {detail}")


def _data_folder() -> Check:
    folder = home()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return Check("data folder", False, f"{folder} is not writable ({exc.strerror}); set EVAL_AGENT_HOME")
    return Check("data folder", True, f"{folder} (EVAL_AGENT_HOME{'' if 'EVAL_AGENT_HOME' in os.environ else ' not set'})")
