"""`--tool-mode json`: every answer constrained by response_format to the JSON action schema (a union
of the tools, each with its own required arguments), parsed leniently (raw newlines inside strings),
and recorded as canonical tool calls, exactly like native ones. Against the scripted
OpenAI-compatible server, through the real CLI, openai client and sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import cli_env, json_events, run_cli

from eval_agent.loop.json_protocol import action_schema, parse_answer
from eval_agent.errors import FormatError
from eval_agent.tools.registry import default_tools, tool_schemas

PLAN = {"content": "- [ ] write the note\n- [ ] check it"}


def act(name: str, arguments: dict, thought: str = "Next.") -> dict:
    return {"content": json.dumps({"thought": thought, "action": {"name": name, "arguments": arguments}})}


def test_json_mode_constrains_answers_and_records_native_tool_calls(tmp_path, eval_home, scripted_server, sandbox_image):
    # a grammar lets a model put raw newlines inside a JSON string: the answer must still parse
    raw_newlines = '{"thought": "Write it.", "action": {"name": "write_file", "arguments": ' \
                   '{"path": "notes/a.txt", "content": "line one\nline two\n"}}}'
    server = scripted_server([
        PLAN,
        {"content": raw_newlines},
        {"content": "Sure! I will count the lines now."},  # unconstrained prose: a format error, fed back
        act("bash", {"command": "wc -l < notes/a.txt"}, "Count the lines."),
        act("finish", {"summary": "Wrote notes/a.txt."}, "Done."),
    ])
    result = run_cli(["run", "write a note", "--model", "openai:demo", "--tool-mode", "json", "--json",
                      "-w", str(tmp_path)], cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    events = json_events(result.stdout)
    assert events[0]["tool_mode"] == "json"
    assert (tmp_path / "notes" / "a.txt").read_text() == "line one\nline two\n"

    # the plan is free text; every act request carries the schema and no tools
    assert "response_format" not in server.requests[0]
    request = server.requests[1]
    assert "tools" not in request
    schema = request["response_format"]["json_schema"]["schema"]
    branches = {b["properties"]["name"]["enum"][0]: b["properties"]["arguments"]["required"]
                for b in schema["properties"]["action"]["anyOf"]}
    assert branches == {"bash": ["command"], "read_file": ["path"], "write_file": ["path", "content"],
                        "edit_file": ["path", "old", "new"], "finish": ["summary"]}
    assert '"action": {"name"' in request["messages"][0]["content"], "the system prompt teaches the form"

    # recorded and sent back in the canonical form: tool_calls on the assistant, role tool answers
    answers = [e["answer"] for e in events if e["type"] == "model_called"]
    write = answers[1]
    assert write["content"] == "Write it."
    call = write["tool_calls"][0]
    assert call["function"]["name"] == "write_file"
    assert json.loads(call["function"]["arguments"]) == {"path": "notes/a.txt", "content": "line one\nline two\n"}
    sent_back = server.requests[2]["messages"]
    assert sent_back[-2]["tool_calls"][0]["id"] == call["id"]
    assert sent_back[-1]["role"] == "tool" and sent_back[-1]["tool_call_id"] == call["id"]

    assert [e["type"] for e in events].count("format_error") == 1
    fed_back = server.requests[3]["messages"][-1]["content"]
    assert "could not be used" in fed_back and '"action"' in fed_back
    count = next(e for e in events if e["type"] == "tool_finished" and e["tool"] == "bash")
    assert count["observation"].strip().startswith("2")
    record = [json.loads(line) for line in Path(events[-1]["record"]).read_text().splitlines()]
    recorded_calls = [r["answer"].get("tool_calls") for r in record if r.get("type") == "model_called"]
    assert [calls[0]["function"]["name"] if calls else None for calls in recorded_calls] == [
        None, "write_file", None, "bash", "finish"]


def test_the_schema_is_a_union_under_an_object_root():
    schema = action_schema(tool_schemas(default_tools()))
    assert schema["type"] == "object" and schema["required"] == ["thought", "action"]
    for branch in schema["properties"]["action"]["anyOf"]:
        assert branch["required"] == ["name", "arguments"] and branch["additionalProperties"] is False
        assert all("description" not in spec for spec in branch["properties"]["arguments"]["properties"].values())


@pytest.mark.parametrize("content, expected", [
    ('```json\n{"thought": "t", "action": {"name": "bash", "arguments": {"command": "ls"}}}\n```',
     ("t", "bash", {"command": "ls"})),
    ('{"name": "read_file", "arguments": {"path": "a.py"}}', ("", "read_file", {"path": "a.py"})),
    ('{"thought": "t", "action": {"name": "bash", "arguments": "{\\"command\\": \\"pwd\\"}"}}',
     ("t", "bash", {"command": "pwd"})),
])
def test_lenient_parsing_where_a_server_did_not_constrain(content, expected):
    thought, call = parse_answer(content)
    assert (thought, call.name, call.arguments) == expected


@pytest.mark.parametrize("content, message", [
    ("", "empty"),
    ("I will list the files.", "no JSON object"),
    ('{"thought": "t", "action": {"name": "write_file", "arguments": {"path": "a", "content": "trunc', "not valid"),
    ('{"thought": "t", "action": {"arguments": {}}}', "no \"name\""),
    ('{"thought": "t", "action": {"name": "bash"}}', "needs \"arguments\""),
])
def test_unusable_answers_say_why(content, message):
    with pytest.raises(FormatError, match=message):
        parse_answer(content)


def test_the_console_shows_each_answers_thought_not_its_json(tmp_path, eval_home, scripted_server, sandbox_image):
    """What a person watching sees in json mode (the embedded model's): the thoughts as they stream,
    the steps, prose as it came; never the JSON with its braces and escaped arguments."""
    server = scripted_server([
        {"content": '```json\n{"thought": "Start with the note.", "action": {"name": "write_file", "arguments": '
                    '{"path": "n.txt", "content": "hi\\n"}}}\n```'},  # an unconstrained plan answer, fenced
        {"content": "Sure! Counting now."},  # prose: a format error, shown as it came
        act("bash", {"command": "wc -c < n.txt"}, "Count the \"bytes\"\nin n.txt."),
        {"content": '{"action": {"name": "finish", "arguments": {"summary": "Wrote n.txt."}}, "thought": "All done."}'},
    ])
    result = run_cli(["run", "write a note", "--model", "openai:demo", "--tool-mode", "json", "-w", str(tmp_path)],
                     cli_env(eval_home, server))
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    for text in ("Start with the note.", "Sure! Counting now.", 'Count the "bytes"\nin n.txt.', "All done.",
                 "step 1 write_file n.txt", "step 2 bash", "Wrote n.txt."):
        assert text in shown, f"{text!r} not shown:\n{shown}"
    assert '"thought"' not in shown and '"action"' not in shown and "```" not in shown, shown
