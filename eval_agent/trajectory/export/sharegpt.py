"""ShareGPT in LLaMA-Factory's layout: a folder with the data and its `dataset_info.json` entry.

    PATH/eval_agent_sharegpt.json   [{"conversations": [{"from": ..., "value": ...}], "system": ..., "tools": ...}]
    PATH/dataset_info.json          {"eval_agent_sharegpt": {"file_name": ..., "formatting": "sharegpt", "columns": ...}}

Roles: human (the user), gpt (a plain answer), function_call (a call: {"name", "arguments"} as
JSON, a list for parallel calls), observation (tool results). LLaMA-Factory's converter wants
human/observation on odd turns and gpt/function_call on even ones, ending on the assistant's
side; two messages in a row on one side (a tool result, then the agent's warning as a user
message) are merged into one. The assistant's text beside a call is not kept: a function_call
turn holds only the call. `tools` is a JSON string of the function definitions."""

from __future__ import annotations

import json
from typing import Any

from .examples import Example, arguments_object, function_definitions
from .llamafactory import LlamaFactoryWriter

DATASET_NAME = "eval_agent_sharegpt"
PARALLEL_RESULTS = "\n</tool_response>\n<tool_response>\n"  # how LLaMA-Factory joins parallel results
USER_SIDE = ("human", "observation")


def conversation_turns(example: Example) -> list[dict[str, str]]:
    turns: list[dict[str, str]] = []
    for message in example.turns:
        role = message["role"]
        if role == "assistant" and message.get("tool_calls"):
            calls = [{"name": call["function"]["name"], "arguments": arguments_object(call["function"]["arguments"])}
                     for call in message["tool_calls"]]
            turn = {"from": "function_call", "value": json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)}
        elif role == "assistant":
            turn = {"from": "gpt", "value": message["content"]}
        elif role == "tool":
            turn = {"from": "observation", "value": message["content"]}
        else:
            turn = {"from": "human", "value": message["content"]}
        previous = turns[-1] if turns else None
        if previous and (previous["from"] in USER_SIDE) == (turn["from"] in USER_SIDE):
            both_results = previous["from"] == turn["from"] == "observation"
            previous["value"] += (PARALLEL_RESULTS if both_results else "\n\n") + turn["value"]
        else:
            turns.append(turn)
    return turns


class ShareGptWriter(LlamaFactoryWriter):
    name = "sharegpt"
    dataset_name = DATASET_NAME

    def convert(self, example: Example) -> dict[str, Any]:
        return {"conversations": conversation_turns(example), "system": example.system,
                "tools": json.dumps(function_definitions(example.tools), ensure_ascii=False) if example.tools else "",
                "run_id": example.run_id}

    def dataset_info(self) -> dict[str, Any]:
        return {"formatting": "sharegpt",
                "columns": {"messages": "conversations", "system": "system", "tools": "tools"},
                "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                         "assistant_tag": "gpt", "observation_tag": "observation",
                         "function_tag": "function_call", "system_tag": "system"}}
