"""The JSON action protocol, for small models: every answer is constrained (response_format with a
JSON schema) to one object,

    {"thought": "one short sentence", "action": {"name": "bash", "arguments": {"command": "ls"}}}

where "action" is a union with one branch per tool, each with that tool's own arguments and its
own required list, so a grammar-constrained model cannot send `"arguments": {}` for write_file.
The answer becomes the same canonical ToolCall as a native call (the thought is the content), so
the trajectory does not depend on the mode. prompts/json_protocol.j2 teaches the form."""

from __future__ import annotations

import json
from typing import Any

from ..models.base import ModelResponse, ToolCall, ToolSchema
from ..errors import FormatError

THOUGHT_MAX_CHARS = 200  # bounds the free text a small model writes before each action


def action_schema(tools: list[ToolSchema]) -> dict[str, Any]:
    """The JSON schema of one answer. The root is an object (OpenAI's json_schema wants that);
    the union sits under "action"."""
    branches = []
    for tool in tools:
        function = tool["function"]
        parameters = function.get("parameters") or {}
        arguments = {
            "type": "object",
            "properties": {name: _bare(spec) for name, spec in parameters.get("properties", {}).items()},
            "required": list(parameters.get("required", [])),
            "additionalProperties": False,
        }
        branches.append({
            "type": "object",
            "properties": {"name": {"type": "string", "enum": [function["name"]]}, "arguments": arguments},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        })
    return {
        "type": "object",
        "properties": {
            "thought": {"type": "string", "maxLength": THOUGHT_MAX_CHARS},
            "action": {"anyOf": branches},
        },
        "required": ["thought", "action"],
        "additionalProperties": False,
    }


def response_format(tools: list[ToolSchema]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "action", "schema": action_schema(tools)}}


def _bare(spec: dict[str, Any]) -> dict[str, Any]:
    # descriptions do not constrain anything; the prompt explains the tools
    return {key: value for key, value in spec.items() if key != "description"}


def parse_answer(content: str) -> tuple[str, ToolCall]:
    """(thought, the action) from an answer's text. Strings may hold raw newlines (a grammar lets
    a model write them), so the JSON is read with strict=False. Lenient where a server did not
    constrain the answer: text around the object, or a bare {"name", "arguments"} object."""
    text = (content or "").strip()
    if not text:
        raise FormatError("the answer was empty; answer with one JSON object.")
    data = _first_object(text)
    action = data.get("action", data)
    if not isinstance(action, dict):
        raise FormatError('"action" must be an object like {"name": "bash", "arguments": {"command": "ls"}}.')
    name = action.get("name") or action.get("tool")
    arguments = action.get("arguments", action.get("args"))
    if not isinstance(name, str) or not name:
        raise FormatError('the action has no "name" (one of the tools).')
    if isinstance(arguments, str):  # some models double-encode the arguments
        try:
            arguments = json.loads(arguments, strict=False)
        except ValueError:
            pass
    if not isinstance(arguments, dict):
        raise FormatError(f'the action {name!r} needs "arguments" as a JSON object.')
    thought = data.get("thought")
    return (thought if isinstance(thought, str) else ""), ToolCall(name=name, arguments=arguments)


def _first_object(text: str) -> dict[str, Any]:
    start = text.find("{")
    if start == -1:
        raise FormatError("no JSON object was found; answer with one JSON object.")
    try:  # raw_decode ignores what follows the object (a closing fence, a remark)
        value, _end = json.JSONDecoder(strict=False).raw_decode(text, start)
    except ValueError as exc:
        raise FormatError(f"the JSON is not valid ({exc}); answer with one complete JSON object.") from None
    if not isinstance(value, dict):
        raise FormatError("the answer is not a JSON object.")
    return value


def decode(answer: ModelResponse) -> ModelResponse:
    """The answer with its JSON action as a canonical tool call and its thought as the content.
    An answer that already has tool calls (a scripted model) or does not parse is left as it is;
    JsonMode.parse then reports the format error."""
    if answer.tool_calls:
        return answer
    try:
        thought, call = parse_answer(answer.content)
    except FormatError:
        return answer
    return ModelResponse(content=thought, tool_calls=[call], usage=answer.usage, latency=answer.latency,
                         retries=answer.retries, raw=answer.raw)
