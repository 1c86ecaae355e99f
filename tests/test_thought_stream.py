"""The json-mode console view: an answer streamed in chunks of any size shows exactly its thought."""

from __future__ import annotations

import json

import pytest

from eval_agent.ui.thought_stream import ThoughtStream

ANSWERS = [  # (what the model streams, what a person sees, whether it had to wait for the end)
    (json.dumps({"thought": 'Write it: "now"\n😀 é\\', "action": {"name": "bash", "arguments": {"command": "ls"}}}),
     'Write it: "now"\n😀 é\\', False),
    (json.dumps({"thought": "Non-ASCII kept as it is: ü 😀"}, ensure_ascii=False), "Non-ASCII kept as it is: ü 😀", False),
    ('```json\n{\n  "thought": "Fenced.",\n  "action": {}\n}\n```', "Fenced.", False),
    ("Sure! I will count the lines.", "Sure! I will count the lines.", False),
    ('{"action": {"name": "finish", "arguments": {"summary": "ok"}}, "thought": "late"}', "", True),
    ('{"thought": "", "action": {}}', "", True),
]


@pytest.mark.parametrize("size", [1, 2, 5, 13, 10_000])
@pytest.mark.parametrize("streamed, seen, hidden", ANSWERS)
def test_any_chunking_shows_the_thought_alone(streamed, seen, hidden, size):
    stream = ThoughtStream()
    shown = "".join(stream.feed(streamed[start:start + size]) for start in range(0, len(streamed), size))
    assert shown == seen
    assert stream.hidden is hidden
