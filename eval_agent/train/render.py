"""Training examples rendered exactly as the served model sees them (train/serve parity).

A recorded run is turned back into the messages its model was sent, in the form the served model
gets them: for the embedded model in the json tool mode, each past action as the JSON object the
model writes and each result as a user message (models/local.py: inline_tool_calls, the same
function the server path uses); in the native mode, tool calls and the tools' schemas for the chat
template. The whole conversation is rendered once by the base model's own chat template and
tokenised once (as a server tokenises a prompt); the tokens of every assistant turn (what the
model wrote: its thoughts and actions, up to its end-of-turn token) carry the loss, and nothing
else does: not the system prompt, not the requests, not the observations.

tests/test_finetune.py checks the parity against llama.cpp itself: at every assistant turn, the
text before it equals what the llama.cpp server renders for that call, token for token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..models.local import inline_tool_calls
from ..trajectory.reader import Trajectory

IGNORED = -100  # a label the loss skips


@dataclass
class Example:
    run_id: str
    task_id: str | None
    input_ids: list[int]
    labels: list[int]  # the token where it carries the loss, else IGNORED

    @property
    def trained_tokens(self) -> int:
        return sum(label != IGNORED for label in self.labels)


@dataclass(frozen=True)
class ServedForm:
    """How the served model is asked: its tool mode and prompt variant (the embedded model: json,
    compact). A run recorded in another form was prompted differently and is not trained on."""

    tool_mode: str
    variant: str | None

    def matches(self, trajectory: Trajectory) -> str:
        """"" when the run was prompted as the served model is, else why not."""
        started = trajectory.started
        mode, variant = started.get("tool_mode"), (started.get("prompts") or {}).get("variant")
        if mode != self.tool_mode:
            return f"its tool mode was {mode}, the served model's is {self.tool_mode}"
        if variant != self.variant:
            return f"its prompts were the {variant or 'full'} ones, the served model gets the {self.variant or 'full'} ones"
        return ""


def load_tokenizer(base: Path):
    """The base model's tokenizer and chat template: from the GGUF file itself (what llama.cpp
    serves from) or from a Hugging Face model folder."""
    from transformers import AutoTokenizer

    if base.is_file():
        return AutoTokenizer.from_pretrained(str(base.parent), gguf_file=base.name)
    return AutoTokenizer.from_pretrained(str(base))


def wire_messages(trajectory: Trajectory, form: ServedForm) -> list[dict[str, Any]]:
    """The run's conversation as the served model is sent it (its last answer included)."""
    messages = [dict(message) for message in trajectory.conversation().messages]
    if form.tool_mode == "json":
        return inline_tool_calls(messages)
    return messages


class Renderer:
    def __init__(self, tokenizer, form: ServedForm):
        self.tokenizer, self.form = tokenizer, form

    def text(self, messages: list[dict[str, Any]], tools: list[dict] | None, generation_prompt: bool) -> str:
        return self.tokenizer.apply_chat_template(messages, tools=tools or None, tokenize=False,
                                                  add_generation_prompt=generation_prompt)

    def example(self, trajectory: Trajectory) -> Example:
        messages = wire_messages(trajectory, self.form)
        tools = trajectory.tools if self.form.tool_mode == "native" else None
        while messages and messages[-1]["role"] != "assistant":  # what came after its last answer
            messages.pop()
        if not any(message["role"] == "assistant" for message in messages):
            raise UsageError(f"run {trajectory.run_id} has no answer of the model to learn from")
        full = self.text(messages, tools, generation_prompt=False)
        spans = []  # character ranges of the assistant turns in `full`
        for index, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            before = self.text(messages[:index], tools, generation_prompt=True)
            through = self.text(messages[:index + 1], tools, generation_prompt=False)
            if not (full.startswith(through) and through.startswith(before)):
                raise UsageError(f"the chat template does not render run {trajectory.run_id} as one growing "
                                 "conversation; it cannot be trained on as one sequence")
            spans.append((len(before), len(through.rstrip("\n"))))
        encoded = self.tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
        ids, labels = list(encoded["input_ids"]), []
        for token, (start, end) in zip(ids, encoded["offset_mapping"]):
            inside = any(low <= start and end <= high and end > start for low, high in spans)
            labels.append(token if inside else IGNORED)
        for low, _ in spans:  # each turn's prompt, tokenised alone as a server does, is where the turn begins
            first = next(i for i, (start, _) in enumerate(encoded["offset_mapping"]) if start >= low)
            if self.tokenizer(full[:low], add_special_tokens=False)["input_ids"] != ids[:first]:
                raise UsageError(f"run {trajectory.run_id}: its text does not split into tokens at a turn's start "
                                 "as the prompt of that turn does; it is left out")
        return Example(trajectory.run_id, trajectory.summary.task_id, ids, labels)


def describe(example: Example, tokenizer) -> str:
    """The example with its trained parts marked, for a person checking the data: «...»."""
    out, inside = [], False
    for token, label in zip(example.input_ids, example.labels):
        trained = label != IGNORED
        if trained != inside:
            out.append("«" if trained else "»")
            inside = trained
        out.append(tokenizer.decode([token]))
    return "".join(out) + ("»" if inside else "")


def dumps(example: Example) -> str:
    return json.dumps({"run_id": example.run_id, "task_id": example.task_id, "input_ids": example.input_ids,
                       "labels": example.labels})
