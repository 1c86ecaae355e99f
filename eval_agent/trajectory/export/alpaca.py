"""Alpaca: instruction (the request), input (empty), output (the whole trace, FireAct-style:
Thought / Action / Observation lines, ending with the final answer), plus the system prompt.
A folder with the data and its LLaMA-Factory `dataset_info.json` entry:

    PATH/eval_agent_alpaca.json   [{"instruction": ..., "input": "", "output": ..., "system": ...}]
    PATH/dataset_info.json"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .examples import Example

DATASET_NAME = "eval_agent_alpaca"
FILE_NAME = f"{DATASET_NAME}.json"


def trace(example: Example) -> str:
    """The conversation after the request as one ReAct trace."""
    parts: list[str] = []
    turns = example.turns
    first_user = next((i for i, message in enumerate(turns) if message["role"] == "user"), -1)
    for index, message in enumerate(turns):
        if index == first_user:
            continue  # the request itself is the instruction
        role = message["role"]
        if role == "assistant":
            is_last = index == len(turns) - 1 and not message.get("tool_calls")
            if message["content"].strip():
                parts.append(("Final Answer: " if is_last else "Thought: ") + message["content"].strip())
            for call in message.get("tool_calls") or []:
                parts.append(f"Action: {call['function']['name']}[{call['function']['arguments']}]")
        else:  # tool results, and what the agent told the model between steps
            parts.append("Observation: " + message["content"].strip())
    return "\n".join(parts)


class AlpacaWriter:
    name = "alpaca"
    folder = True

    def __init__(self, staging: Path, **_: Any):
        self.path = staging
        staging.mkdir(parents=True)
        self._file = open(staging / FILE_NAME, "w", encoding="utf-8")
        self._file.write("[")
        self._count = 0

    def convert(self, example: Example) -> dict[str, Any]:
        return {"instruction": example.request, "input": "", "output": trace(example), "system": example.system,
                "run_id": example.run_id}

    def write(self, record: dict[str, Any], example: Example) -> None:
        self._file.write(("," if self._count else "") + "\n" + json.dumps(record, ensure_ascii=False))
        self._count += 1

    def close(self, card: dict[str, Any]) -> list[Path]:
        self._file.write("\n]\n")
        self._file.close()
        info = {DATASET_NAME: {"file_name": FILE_NAME, "formatting": "alpaca",
                               "columns": {"prompt": "instruction", "query": "input", "response": "output",
                                           "system": "system"}}}
        (self.path / "dataset_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        return [self.path / FILE_NAME, self.path / "dataset_info.json"]

    def abort(self) -> None:
        self._file.close()
