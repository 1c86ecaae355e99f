"""`scripted:FILE`: replays a JSON list of actions, one per complete() call, for demos and tests.

Each item is a tool call {"tool": "bash", "args": {"command": "ls"}}, optionally with "content"
alongside, or a plain answer {"content": "text"}. After the list runs out every call answers
finish. Costs nothing; token counts are unknown.

The file may also be an object {"actions": [...], "prompt_variant": "compact"}: the run is then
prompted as a small model is (the compact prompts), e.g. to record training runs in the form
the embedded model is served."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from eval_agent.errors import UsageError
from eval_agent.models.base import Message, ModelInfo, ModelResponse, ToolCall, ToolSchema, Usage
from eval_agent.models.convert import dump_arguments

EXHAUSTED_SUMMARY = "the scripted actions ran out"


def _validate(items: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise UsageError(f"{source}: a scripted model needs a JSON list of actions")
    for i, item in enumerate(items):
        where = f"{source}: item {i}"
        if not isinstance(item, dict) or not ({"tool", "content"} & item.keys()):
            raise UsageError(
                f'{where} must be {{"tool": NAME, "args": {{...}}}} or {{"content": TEXT}}'
            )
        if "tool" in item and not (isinstance(item["tool"], str) and item["tool"]):
            raise UsageError(f"{where}: tool must be a non-empty name")
        if not isinstance(item.get("args", {}), dict):
            raise UsageError(f"{where}: args must be a JSON object")
        if not isinstance(item.get("content", ""), str):
            raise UsageError(f"{where}: content must be a string")
    return items


class ScriptedModel:
    prompt_variant: str | None = None

    def __init__(self, script: str | Path | list[dict[str, Any]]):
        if isinstance(script, list):
            source = "<list>"
            items = script
        else:
            source = str(script)
            path = Path(script).expanduser()
            try:
                items = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise UsageError(f"scripted model: no such file: {source}") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"scripted model: cannot read {source}: {exc}") from None
            except ValueError as exc:
                raise UsageError(f"scripted model: {source} is not valid JSON: {exc}") from None
        if isinstance(items, dict) and "actions" in items:
            variant = items.get("prompt_variant")
            if variant is not None and not (isinstance(variant, str) and variant.isidentifier()):
                raise UsageError(f"{source}: prompt_variant must be a name such as compact")
            self.prompt_variant = variant
            items = items["actions"]
        self.actions = _validate(items, source)
        self.calls = 0  # complete() calls so far
        self.info = ModelInfo(provider="scripted", name=source, base_url=None, parameters={})

    def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        on_text: Callable[[str], None] | None = None,
        response_format: dict | None = None,  # scripted answers are already actions
    ) -> ModelResponse:
        index = self.calls
        self.calls += 1
        if index < len(self.actions):
            item = self.actions[index]
        else:
            item = {"tool": "finish", "args": {"summary": EXHAUSTED_SUMMARY}}
        content = item.get("content", "")
        if content and on_text is not None:
            on_text(content)
        raw: dict[str, Any] = {"role": "assistant", "content": content}
        tool_calls = []
        if "tool" in item:
            call = ToolCall(name=item["tool"], arguments=dict(item.get("args", {})),
                            id=f"call_scripted_{index}")
            tool_calls.append(call)
            raw["tool_calls"] = [{
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": dump_arguments(call.arguments)},
            }]
        return ModelResponse(
            content=content,
            tool_calls=tool_calls,
            usage=Usage(input_tokens=None, output_tokens=None, cost=0.0),
            latency=0.0,
            retries=0,
            raw=raw,
        )
