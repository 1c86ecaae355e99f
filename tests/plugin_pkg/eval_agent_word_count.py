"""An eval-agent plugin in one module: a tool, a model provider, an export format and a task source."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from eval_agent.models.scripted import ScriptedModel
from eval_agent.tools.base import Observation, function_schema


class WordCountTool:
    """word_count(path): `wc -w` on a file, run inside the sandbox."""

    name = "word_count"

    @property
    def schema(self) -> dict:
        return function_schema(
            self.name, "Count the words in a file of the workspace (wc -w). Prints `N words`.",
            {"path": {"type": "string", "description": "The file, relative to the workspace."}}, ["path"])

    def run(self, arguments: dict[str, Any], sandbox) -> Observation:
        result = sandbox.run(f"wc -w < {shlex.quote(arguments['path'])}", timeout=30)
        if result.exit_code != 0:
            return Observation(result.output, ok=False, exit_code=result.exit_code)
        return Observation(f"{result.output.strip()} words", exit_code=0)


def canned_model(name: str, **options: Any) -> ScriptedModel:
    """canned:TEXT: a model that finishes at once, its summary TEXT."""
    model = ScriptedModel([{"tool": "finish", "args": {"summary": f"canned {name}"}}])
    model.info.provider, model.info.name = "canned", name
    return model


class RequestsWriter:
    """--format requests: one JSON line per run, just its request."""

    name = "requests"
    folder = False  # --out names a file

    def __init__(self, staging: Path, **options: Any):
        self.path = staging
        self._file = open(staging, "w", encoding="utf-8")

    def convert(self, example) -> dict[str, Any]:
        return {"request": example.request}

    def write(self, record: dict[str, Any], example) -> None:
        self._file.write(json.dumps(record) + "\n")

    def close(self, card: dict[str, Any]) -> list[Path]:
        self._file.close()
        return [self.path]

    def abort(self) -> None:
        self._file.close()


class PlainSource:
    """Task folders of a layout of our own: prompt.txt (the instruction) and check.sh (the test)."""

    name, title, layout = "plain", "Plain", "prompt.txt + check.sh"

    def detect(self, folder: Path) -> bool:
        return (folder / "prompt.txt").is_file() and (folder / "check.sh").is_file()

    def load(self, folder: Path):
        from eval_agent.bench.tasks import Task

        return Task(id=folder.name, path=folder, format=self.name,
                    instruction=(folder / "prompt.txt").read_text(encoding="utf-8").strip(),
                    category="plain", family="plain", image="eval-agent-sandbox",
                    test_files={"check.sh": folder / "check.sh"}, test_command="bash /tests/check.sh",
                    reward_file_required=False)
