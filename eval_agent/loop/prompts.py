"""Prompt templates: Jinja2 files in prompts/ (shipped in the wheel), overridable per file with
`--prompts DIR`. Every rendering is strict: a missing variable is an error, not an empty string."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jinja2

from ..errors import UsageError
from ..resources import prompts_dir


class Prompts:
    """`variant` (e.g. "compact", for small local models): render("system") uses system_compact.j2
    where that template exists, else system.j2."""

    def __init__(self, user_dir: Path | None = None, variant: str | None = None):
        if user_dir is not None and not user_dir.is_dir():
            raise UsageError(f"--prompts {user_dir}: no such folder; point it at a copy of eval-agent's prompts/")
        folders = [str(user_dir)] if user_dir else []
        folders.append(str(prompts_dir()))
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folders),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,
        )
        self.user_dir = user_dir
        self.variant = variant
        self.used: set[str] = set()  # template files rendered so far (includes not counted)

    def render(self, name: str, **variables: Any) -> str:
        names = ([f"{name}_{self.variant}.j2"] if self.variant else []) + [f"{name}.j2"]
        try:
            template = self._env.select_template(names)
        except jinja2.TemplateNotFound:
            raise UsageError(f"prompt template {name}.j2 not found in {self.user_dir or prompts_dir()}") from None
        self.used.add(template.name)
        try:
            return template.render(**variables).strip()
        except jinja2.UndefinedError as exc:
            raise UsageError(f"prompt template {name}.j2: {exc}") from None
        except jinja2.TemplateError as exc:
            raise UsageError(f"prompt template {name}.j2 is broken: {exc}") from None

    def record(self) -> dict[str, Any]:
        """Every template in force (a user's copy wins over the built-in one) with the sha256 of
        its source, for the run's record: known before the first rendering, includes covered."""
        templates = {}
        for name in self._env.list_templates(extensions=["j2"]):
            source, _, _ = self._env.loader.get_source(self._env, name)
            templates[name] = hashlib.sha256(source.encode()).hexdigest()[:16]
        return {"dir": str(self.user_dir) if self.user_dir else "builtin", "variant": self.variant,
                "templates": templates}
