"""OpenAI chat fine-tuning format: one JSON line per trajectory, `{"messages": [...], "tools": [...]}`.
Roles system, user, assistant, tool; tool-call arguments as JSON strings; the conversation ends
with a content-only assistant turn. With `weight_failed_steps=0`, assistant turns whose action
failed carry `"weight": 0` (OpenAI's per-message weight), so a tune does not learn the mistake
but still sees what followed it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .examples import Example


class OpenAIWriter:
    name = "openai"
    folder = False  # --out names a file

    def __init__(self, staging: Path, weight_failed_steps: int | None = None, **_: Any):
        self.path = staging
        self.weight_failed_steps = weight_failed_steps
        self._file = open(staging, "w", encoding="utf-8")

    def convert(self, example: Example) -> dict[str, Any]:
        messages = example.messages
        if self.weight_failed_steps is not None:
            messages = [dict(message, weight=self.weight_failed_steps if index in example.failed else 1)
                        if message["role"] == "assistant" else message
                        for index, message in enumerate(messages)]
        record: dict[str, Any] = {"messages": messages}
        if example.tools:
            record["tools"] = example.tools
        return record

    def write(self, record: dict[str, Any], example: Example) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self, card: dict[str, Any]) -> list[Path]:
        self._file.close()
        return [self.path]

    def abort(self) -> None:
        self._file.close()
