"""1,000 malformed model answers (Hypothesis): broken JSON, wrong types, unknown tools, huge
arguments, control characters, in each tool mode. None may crash the loop: each becomes a format
error or an error observation fed back to the model, and the run ends as finished or limit.

The model here is a small in-process one that hands out the generated answers (the loop is what
is under test, and a thousand HTTP round trips would only add time); the sandbox is the real
Docker one, started once: an answer that happens to be a valid command really runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval_agent.loop.agent import Agent, Limits
from eval_agent.loop.prompts import Prompts
from eval_agent.models.base import ModelInfo, ModelResponse, ToolCall
from eval_agent.sandbox.factory import SandboxSettings, start_sandbox
from eval_agent.tools.registry import default_tools

TOOL_NAMES = ["bash", "read_file", "write_file", "edit_file", "finish", "make_tool"]
control = st.characters(min_codepoint=0, max_codepoint=0x9F).filter(lambda c: c < " " or "\x7f" <= c)
texts = st.one_of(st.text(max_size=60), st.text(alphabet=control, max_size=20),
                  st.just("x" * 100_000), st.just("\x1b]52;c;cHduZWQ=\x07\x1b[2J"))
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | texts,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                           max_leaves=12)
names = st.one_of(st.sampled_from(TOOL_NAMES), texts)
# arguments that are wrong for every tool: a wrong type for a known name, junk names, non-objects
wrong_arguments = st.one_of(
    json_values.filter(lambda value: not isinstance(value, dict)),
    st.fixed_dictionaries({"command": st.integers() | st.lists(texts) | st.none()}),
    st.fixed_dictionaries({"path": st.integers() | st.booleans(), "content": json_values}),
    st.dictionaries(texts.filter(lambda key: key not in ("command", "path", "summary")), json_values, min_size=1, max_size=3),
)


def native_answer():
    return st.builds(lambda content, calls: ModelResponse(content=content, tool_calls=calls),
                     st.one_of(st.none(), texts),
                     st.lists(st.builds(lambda name, arguments: ToolCall(name=name, arguments=arguments),
                                        names, wrong_arguments), max_size=3))


def text_answer():
    blocks = st.builds(lambda name, body, fence: f"ACTION: {name}\n{fence}\n{body}\n{fence[:2]}",
                       names, texts, st.sampled_from(["```", "~~~", "``", ""]))
    return st.builds(lambda parts: ModelResponse(content="\n".join(parts)), st.lists(st.one_of(texts, blocks), max_size=4))


def json_answer():
    broken = st.builds(lambda value, cut: json.dumps(value)[:cut], json_values, st.integers(0, 40))
    shaped = st.builds(lambda name, arguments, thought: json.dumps({"thought": thought, "action": {"name": name, "arguments": arguments}}),
                       names, wrong_arguments, json_values)
    return st.builds(lambda content: ModelResponse(content=content), st.one_of(broken, shaped, texts))


class Answers:
    """Hands out a plan, the generated answers, then a finish: the model side of one run."""

    info = ModelInfo(provider="fuzz", name="answers")

    def __init__(self, answers: list[ModelResponse]):
        self.queue = [ModelResponse(content="- [ ] try"), *answers,
                      ModelResponse(content="", tool_calls=[ToolCall("finish", {"summary": "stop"}, "call_end")])]

    def complete(self, messages, tools=None, on_text=None, response_format=None) -> ModelResponse:
        json.dumps(messages)  # what the loop keeps must stay serialisable, whatever came in
        answer = self.queue.pop(0) if self.queue else ModelResponse(
            content="", tool_calls=[ToolCall("finish", {"summary": "stop"}, "call_end")])
        if response_format is not None and answer.tool_calls:  # json mode: the finish as JSON text
            call = answer.tool_calls[0]
            answer = ModelResponse(content=json.dumps({"thought": "t", "action": {"name": call.name, "arguments": call.arguments}}))
        return answer


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, sandbox_image):
    folder: Path = tmp_path_factory.mktemp("fuzz-ws")
    box = start_sandbox(SandboxSettings(workspace=folder, image=sandbox_image, network="none", ports=(),
                                        command_timeout=2.0, session_id="fuzz"))
    yield box
    box.close()


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@pytest.mark.parametrize("mode, strategy", [("native", native_answer), ("text", text_answer), ("json", json_answer)])
def test_malformed_answers_never_crash_the_loop(sandbox, mode, strategy):
    outcomes: list[str] = []

    @settings(max_examples=340, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(strategy(), min_size=1, max_size=3))
    def run_once(answers):
        events = []
        agent = Agent(Answers(answers), sandbox, default_tools(), Prompts(), emit=events.append,
                      limits=Limits(max_steps=6, max_format_errors=3), tool_mode=mode,
                      system_variables={"workdir": "/workspace", "sandbox_kind": "docker", "network": "none",
                                        "ports": [], "timeout": 2, "has_workspace": True, "user_note": ""})
        outcome = agent.run("do something")
        assert outcome.status in ("finished", "limit"), outcome.reason[:300]
        json.dumps([event.to_dict() for event in events])  # every event can be recorded
        # every malformed answer was answered: a format error, or an observation the model saw
        fed_back = [event for event in events if event.type in ("format_error", "tool_finished")]
        assert fed_back
        outcomes.append(outcome.status)

    run_once()
    assert len(outcomes) >= 300
