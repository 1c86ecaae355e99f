"""OpenAI-style message dicts <-> LangChain messages, and a LangChain answer -> ModelResponse.

The agent keeps its conversation as OpenAI-style dicts (what the trajectory records). LangChain
chat models take BaseMessages. Both directions are written out here so that the round trip is
exact: an assistant turn built from `ModelResponse.raw` converts back to the same AIMessage, and
langchain-openai serialises it to the same JSON the server sent (arguments re-dumped the way
langchain-openai dumps them: json.dumps(args, ensure_ascii=False))."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where messages are built: a scripted run never loads LangChain
    from langchain_core.messages import AIMessage, BaseMessage

from eval_agent.errors import UsageError
from eval_agent.models.base import Message, ModelResponse, ToolCall, Usage


def to_langchain(messages: list[Message]) -> list[BaseMessage]:
    return [_to_langchain_one(i, m) for i, m in enumerate(messages)]


def _to_langchain_one(index: int, m: Message) -> BaseMessage:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    role = m.get("role")
    content = m.get("content")
    if content is None:
        content = ""  # some servers reject null content; "" means the same thing
    name = m.get("name")
    if role == "system":
        return SystemMessage(content=content, name=name)
    if role == "developer":
        return SystemMessage(
            content=content, name=name, additional_kwargs={"__openai_role__": "developer"}
        )
    if role == "user":
        return HumanMessage(content=content, name=name)
    if role == "assistant":
        valid, invalid = [], []
        for call in m.get("tool_calls") or []:
            function = call.get("function") or {}
            call_id = call.get("id") or ""
            call_name = function.get("name") or ""
            arguments = function.get("arguments")
            parsed, error = parse_arguments(arguments)
            if error is None:
                valid.append(
                    {"name": call_name, "args": parsed, "id": call_id, "type": "tool_call"}
                )
            else:
                invalid.append(
                    {
                        "name": call_name,
                        "args": arguments if isinstance(arguments, str) else json.dumps(arguments),
                        "id": call_id,
                        "error": error,
                        "type": "invalid_tool_call",
                    }
                )
        return AIMessage(content=content, name=name, tool_calls=valid, invalid_tool_calls=invalid)
    if role == "tool":
        if "tool_call_id" not in m:
            raise UsageError(f"message {index} (role tool) has no tool_call_id")
        return ToolMessage(content=content, tool_call_id=m["tool_call_id"], name=name)
    raise UsageError(f"message {index} has an unknown role {role!r}")


def parse_arguments(arguments: Any) -> tuple[dict[str, Any], str | None]:
    """A tool call's arguments as a dict, or ({}, why) when they are not a JSON object."""
    if isinstance(arguments, dict):
        return arguments, None
    if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
        return {}, None
    try:
        value = json.loads(arguments, strict=False)
    except (TypeError, ValueError) as exc:
        return {}, f"arguments are not valid JSON: {exc}"
    if not isinstance(value, dict):
        return {}, "arguments are not a JSON object"
    return value, None


def dump_arguments(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


def message_text(message: BaseMessage) -> str:
    """The text of an answer: a plain string, or the text blocks of a block list."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def to_response(message: AIMessage, *, cost_of) -> ModelResponse:
    """ModelResponse from a LangChain answer. `cost_of(input_tokens, output_tokens)` prices it.

    A tool call whose arguments are not a JSON object comes back as ToolCall(name, {}, id);
    raw["tool_calls"] keeps the arguments string exactly as the model wrote it."""
    raw_calls: list[dict[str, Any]] = []
    tool_calls: list[ToolCall] = []
    for call in message.tool_calls:
        call_id = call.get("id") or new_call_id()
        args = call.get("args") or {}
        raw_calls.append(_raw_call(call_id, call["name"], dump_arguments(args)))
        tool_calls.append(ToolCall(name=call["name"], arguments=dict(args), id=call_id))
    for call in message.invalid_tool_calls:
        call_id = call.get("id") or new_call_id()
        name = call.get("name") or ""
        raw_calls.append(_raw_call(call_id, name, call.get("args") or ""))
        tool_calls.append(ToolCall(name=name, arguments={}, id=call_id))
    text = message_text(message)
    raw: dict[str, Any] = {"role": "assistant", "content": text}
    if raw_calls:
        raw["tool_calls"] = raw_calls
    return ModelResponse(
        content=text, tool_calls=tool_calls, usage=usage_of(message, cost_of), raw=raw
    )


def _raw_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def new_call_id() -> str:
    """For servers that send tool calls without ids (the tool result must name one)."""
    return "call_" + uuid.uuid4().hex[:24]


def usage_of(message: AIMessage, cost_of) -> Usage:
    meta = getattr(message, "usage_metadata", None)
    if not meta:
        return Usage()
    input_tokens = meta.get("input_tokens")
    output_tokens = meta.get("output_tokens")
    return Usage(input_tokens, output_tokens, cost_of(input_tokens, output_tokens))
