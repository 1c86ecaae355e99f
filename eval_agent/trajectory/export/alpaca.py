"""Alpaca: instruction (the request), input (empty), output (the whole trace, FireAct-style:
Thought / Action / Observation lines, ending with the final answer), plus the system prompt.
A folder with the data and its LLaMA-Factory `dataset_info.json` entry:

    PATH/eval_agent_alpaca.json   [{"instruction": ..., "input": "", "output": ..., "system": ...}]
    PATH/dataset_info.json"""

from __future__ import annotations

from typing import Any

from .examples import Example
from .llamafactory import LlamaFactoryWriter

DATASET_NAME = "eval_agent_alpaca"


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


class AlpacaWriter(LlamaFactoryWriter):
    name = "alpaca"
    dataset_name = DATASET_NAME

    def convert(self, example: Example) -> dict[str, Any]:
        return {"instruction": example.request, "input": "", "output": trace(example), "system": example.system,
                "run_id": example.run_id}

    def dataset_info(self) -> dict[str, Any]:
        return {"formatting": "alpaca",
                "columns": {"prompt": "instruction", "query": "input", "response": "output", "system": "system"}}
