"""Model backends through the real openai client (via langchain-openai) against a scripted
OpenAI-compatible HTTP server on 127.0.0.1: what the user sees (text, tool calls, tokens, cost,
retries, one-line errors) and what the server was sent."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
from langchain_openai import ChatOpenAI

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import ScriptedOpenAIServer  # noqa: E402

from eval_agent.errors import ModelError, UsageError  # noqa: E402
from eval_agent.models import pricing  # noqa: E402
from eval_agent.models.base import ModelInfo  # noqa: E402
from eval_agent.models.langchain_chat import LangChainChatModel  # noqa: E402
from eval_agent.models.openai_chat import NO_KEY, OpenAIChatModel, ToolsUnsupported  # noqa: E402
from eval_agent.models.registry import load_model  # noqa: E402
from eval_agent.models.scripted import EXHAUSTED_SUMMARY, ScriptedModel  # noqa: E402

BASH = {"type": "function", "function": {
    "name": "bash", "description": "Run a shell command.",
    "parameters": {"type": "object", "properties": {"command": {"type": "string"}},
                   "required": ["command"]}}}
FINISH = {"type": "function", "function": {
    "name": "finish", "description": "Say the task is done.",
    "parameters": {"type": "object", "properties": {"summary": {"type": "string"}}}}}
USER = [{"role": "system", "content": "You are a coding agent."},
        {"role": "user", "content": "list the files"}]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", pricing.PRICES_ENV):
        monkeypatch.delenv(name, raising=False)


def model(server, name="gpt-4o-mini", **kwargs) -> OpenAIChatModel:
    kwargs.setdefault("backoff", 0.01)
    return OpenAIChatModel(name, base_url=server.base_url, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- answers ---------------------------------------------------------------------------------

def test_plain_text_answer_without_streaming():
    with ScriptedOpenAIServer([{"content": "Hello there."}]) as server:
        response = model(server).complete(USER)
    assert response.content == "Hello there."
    assert response.tool_calls == []
    assert response.raw == {"role": "assistant", "content": "Hello there."}
    assert response.retries == 0 and response.latency > 0
    sent = server.requests[0]
    assert sent["stream"] is False and sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == [{"role": "system", "content": "You are a coding agent."},
                                {"role": "user", "content": "list the files"}]
    assert server.headers[0]["Authorization"] == f"Bearer {NO_KEY}"  # base URL, no key


def test_streamed_text_reaches_on_text_in_pieces():
    text = "Streaming works, piece by piece."
    with ScriptedOpenAIServer([{"content": text}], chunk_size=5) as server:
        pieces: list[str] = []
        response = model(server).complete(USER, on_text=pieces.append)
    assert len(pieces) > 3 and "".join(pieces) == text
    assert response.content == text
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["stream_options"] == {"include_usage": True}
    assert response.usage.input_tokens and response.usage.output_tokens


def test_native_tool_call_is_parsed():
    script = [{"tool": "bash", "args": {"command": "ls -la"}, "content": "Looking first."}]
    with ScriptedOpenAIServer(script) as server:
        response = model(server).complete(USER, tools=[BASH, FINISH])
    assert response.content == "Looking first."
    [call] = response.tool_calls
    assert call.name == "bash" and call.arguments == {"command": "ls -la"}
    assert call.id.startswith("call_")
    assert response.raw["tool_calls"] == [{"id": call.id, "type": "function", "function": {
        "name": "bash", "arguments": json.dumps({"command": "ls -la"})}}]
    assert [t["function"]["name"] for t in server.requests[0]["tools"]] == ["bash", "finish"]


def test_streamed_tool_call_deltas_are_assembled():
    script = [{"tool_calls": [{"tool": "bash", "args": {"command": "pytest -q tests/ && echo ok"}},
                              {"tool": "finish", "args": {"summary": "all green"}}]}]
    with ScriptedOpenAIServer(script, chunk_size=3) as server:
        pieces: list[str] = []
        response = model(server).complete(USER, tools=[BASH, FINISH], on_text=pieces.append)
    assert pieces == [] and response.content == ""
    assert [(c.name, c.arguments) for c in response.tool_calls] == [
        ("bash", {"command": "pytest -q tests/ && echo ok"}),
        ("finish", {"summary": "all green"})]
    assert len({c.id for c in response.tool_calls}) == 2
    assert response.usage.output_tokens is not None


def test_tool_call_with_invalid_json_arguments_keeps_the_raw_string():
    script = [{"tool": "bash", "arguments": '{"command": "ls'}]
    with ScriptedOpenAIServer(script) as server:
        response = model(server).complete(USER, tools=[BASH])
    [call] = response.tool_calls
    assert call.name == "bash" and call.arguments == {}
    assert response.raw["tool_calls"][0]["function"]["arguments"] == '{"command": "ls'


# -- usage and cost -----------------------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True])
def test_usage_and_cost_for_a_priced_model(stream):
    usage = {"prompt_tokens": 1000, "completion_tokens": 500}
    with ScriptedOpenAIServer([{"content": "ok", "usage": usage}]) as server:
        on_text = (lambda _t: None) if stream else None
        response = model(server, "gpt-4o-mini").complete(USER, on_text=on_text)
    assert response.usage.input_tokens == 1000 and response.usage.output_tokens == 500
    assert response.usage.cost == pytest.approx((1000 * 0.15 + 500 * 0.60) / 1e6)


def test_unknown_model_has_tokens_but_no_cost_and_env_prices_apply(monkeypatch):
    usage = {"prompt_tokens": 2000, "completion_tokens": 100}
    with ScriptedOpenAIServer([{"content": "a", "usage": usage}] * 2) as server:
        unknown = model(server, "qwen2.5-coder-7b").complete(USER)
        monkeypatch.setenv(pricing.PRICES_ENV, '{"qwen2.5-coder-7b": [1.0, 2.0]}')
        priced = model(server, "qwen2.5-coder-7b").complete(USER)
    assert unknown.usage.input_tokens == 2000 and unknown.usage.cost is None
    assert priced.usage.cost == pytest.approx((2000 * 1.0 + 100 * 2.0) / 1e6)


def test_price_table_lookups_and_bad_overrides(monkeypatch):
    assert pricing.price_of("gpt-4o-2024-08-06") == pricing.DEFAULT_PRICES["gpt-4o"]
    assert pricing.cost("no-such-model", 10, 10) is None
    assert pricing.cost("gpt-4.1", None, 10) is None
    table = pricing.load_prices({"gpt-4o": {"input": 1, "output": 1}})
    assert pricing.cost("gpt-4o", 1_000_000, 0, table) == 1.0
    monkeypatch.setenv(pricing.PRICES_ENV, "{not json")
    with pytest.raises(UsageError, match=pricing.PRICES_ENV):
        pricing.load_prices()


# -- retries and errors -------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 429, 503])
def test_retries_after_a_transient_error_are_counted(status):
    with ScriptedOpenAIServer([{"status": status}, {"content": "recovered"}]) as server:
        response = model(server).complete(USER)
    assert response.content == "recovered" and response.retries == 1
    assert len(server.requests) == 2


def test_gives_up_after_max_attempts():
    with ScriptedOpenAIServer([{"status": 500}] * 5) as server:
        with pytest.raises(ModelError, match=r"HTTP 500.*gave up after 3 attempts"):
            model(server, max_attempts=3).complete(USER)
    assert len(server.requests) == 3


def test_bad_key_fails_at_once_naming_the_variable(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    with ScriptedOpenAIServer([{"content": "never"}], require_key="sk-test-right") as server:
        with pytest.raises(ModelError) as caught:
            model(server).complete(USER)
    message = str(caught.value)
    assert "401" in message and "OPENAI_API_KEY" in message and "\n" not in message
    assert caught.value.exit_code == 3
    assert len(server.requests) == 1  # no retries on a bad key
    assert server.headers[0]["Authorization"] == "Bearer sk-wrong"


def test_explicit_key_and_env_base_url_are_honoured(monkeypatch):
    with ScriptedOpenAIServer([{"content": "in"}], require_key="sk-test-right") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        chat = OpenAIChatModel("gpt-4o-mini", api_key="sk-test-right")
        assert chat.complete(USER).content == "in"
    assert chat.info.base_url == server.base_url
    assert "sk-test" not in repr(chat.info)


def test_no_key_for_the_openai_api_is_a_clear_error():
    with pytest.raises(ModelError, match="set OPENAI_API_KEY"):
        OpenAIChatModel("gpt-4o")


def test_unknown_model_names_the_model_and_the_url():
    with ScriptedOpenAIServer([{"content": "never"}], models=["gpt-4o-mini"]) as server:
        with pytest.raises(ModelError) as caught:
            model(server, "gpt-9-ultra").complete(USER)
    message = str(caught.value)
    assert "gpt-9-ultra" in message and server.base_url in message and "404" in message
    assert len(server.requests) == 1


def test_connection_refused_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    chat = OpenAIChatModel("gpt-4o-mini", base_url=url, max_attempts=2, backoff=0.01)
    with pytest.raises(ModelError) as caught:
        chat.complete(USER)
    message = str(caught.value)
    assert url in message and "gave up after 2 attempts" in message
    assert "refused" in message.lower()


def test_timeout_is_a_model_error():
    with ScriptedOpenAIServer([{"content": "late", "delay": 2}]) as server:
        with pytest.raises(ModelError, match="did not answer within 0.3 s"):
            model(server, timeout=0.3, max_attempts=1).complete(USER)


def test_tools_rejected_raises_tools_unsupported_and_text_mode_still_works():
    with ScriptedOpenAIServer([{"content": "text mode"}], reject_tools=True) as server:
        chat = model(server)
        with pytest.raises(ToolsUnsupported, match="does not accept tools") as caught:
            chat.complete(USER, tools=[BASH])
        assert isinstance(caught.value, ModelError)
        assert len(server.requests) == 1  # not retried
        assert chat.complete(USER).content == "text mode"


def test_other_bad_requests_are_not_tools_unsupported():
    body = {"error": {"message": "An assistant message with 'tool_calls' must be followed by "
                                 "tool messages responding to each 'tool_call_id'.",
                      "type": "invalid_request_error"}}
    with ScriptedOpenAIServer([{"status": 400, "body": body}]) as server:
        with pytest.raises(ModelError) as caught:
            model(server).complete(USER, tools=[BASH])
    assert not isinstance(caught.value, ToolsUnsupported)
    assert "(400)" in str(caught.value)


# -- what the server is sent --------------------------------------------------------------------

def test_history_with_tool_call_and_result_is_sent_in_openai_form():
    history = USER + [
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_abc", "type": "function",
            "function": {"name": "bash", "arguments": '{"command": "ls"}'}}]},
        {"role": "tool", "tool_call_id": "call_abc", "content": "README.md\nsetup.py"},
        {"role": "assistant", "content": None},
        {"role": "user", "content": "go on"},
    ]
    with ScriptedOpenAIServer([{"tool": "finish", "args": {"summary": "listed"}}]) as server:
        response = model(server).complete(history, tools=[BASH, FINISH])
    assert response.tool_calls[0].arguments == {"summary": "listed"}
    sent = server.requests[0]["messages"]
    assert sent[2] == {"role": "assistant", "content": "", "tool_calls": [{
        "id": "call_abc", "type": "function",
        "function": {"name": "bash", "arguments": '{"command": "ls"}'}}]}
    assert sent[3] == {"role": "tool", "tool_call_id": "call_abc", "content": "README.md\nsetup.py"}
    assert sent[4] == {"role": "assistant", "content": ""}
    assert sent[5] == {"role": "user", "content": "go on"}


def test_raw_answer_round_trips_unchanged():
    script = [{"tool": "bash", "args": {"command": "echo ü"}}, {"content": "done"}]
    with ScriptedOpenAIServer(script) as server:
        chat = model(server)
        first = chat.complete(USER, tools=[BASH])
        tool_result = {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "ü"}
        chat.complete(USER + [first.raw, tool_result], tools=[BASH])
    assert server.requests[1]["messages"][2] == first.raw


def test_parameters_and_response_format_reach_the_server():
    schema = {"type": "object", "properties": {"tool": {"type": "string"}}, "required": ["tool"]}
    with ScriptedOpenAIServer([{"content": '{"tool": "finish"}'}]) as server:
        chat = model(server, temperature=0.2, max_tokens=256, response_format=schema)
        chat.complete(USER)
    sent = server.requests[0]
    assert sent["temperature"] == 0.2 and sent["max_tokens"] == 256
    assert sent["response_format"] == {"type": "json_schema",
                                       "json_schema": {"name": "action", "schema": schema}}
    assert chat.info.parameters["temperature"] == 0.2
    assert chat.info.provider == "openai" and chat.info.name == "gpt-4o-mini"


# -- other backends -----------------------------------------------------------------------------

def test_generic_langchain_model_streams_retries_and_classifies():
    script = [{"status": 502}, {"tool": "bash", "args": {"command": "ls"}, "content": "hm"}]
    with ScriptedOpenAIServer(script, require_key="sk-right") as server:
        def wrap(key):
            chat = ChatOpenAI(model="m", base_url=server.base_url, api_key=key, max_retries=0,
                              stream_usage=True)
            return LangChainChatModel(chat, ModelInfo("custom", "m", server.base_url),
                                      backoff=0.01)
        pieces: list[str] = []
        response = wrap("sk-right").complete(USER, tools=[BASH], on_text=pieces.append)
        with pytest.raises(ModelError, match="rejected the credentials"):
            wrap("sk-wrong").complete(USER)
    assert response.retries == 1 and "".join(pieces) == "hm"
    assert response.tool_calls[0].arguments == {"command": "ls"}


def test_scripted_model_replays_then_finishes(tmp_path):
    path = tmp_path / "actions.json"
    path.write_text(json.dumps([
        {"tool": "bash", "args": {"command": "ls"}, "content": "Looking."},
        {"content": "Just text."},
    ]))
    chat = load_model(f"scripted:{path}")
    seen: list[str] = []
    first = chat.complete(USER, tools=[BASH], on_text=seen.append)
    second = chat.complete(USER)
    third = chat.complete(USER)
    assert (first.content, first.tool_calls[0].name, first.tool_calls[0].arguments) == (
        "Looking.", "bash", {"command": "ls"})
    assert first.raw["tool_calls"][0]["id"] == first.tool_calls[0].id
    assert seen == ["Looking."]
    assert second.content == "Just text." and second.tool_calls == []
    assert third.tool_calls[0].name == "finish"
    assert third.tool_calls[0].arguments == {"summary": EXHAUSTED_SUMMARY}
    assert first.usage.cost == 0 and first.usage.input_tokens is None
    assert chat.info.provider == "scripted"


def test_scripted_model_reports_bad_files(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        load_model(f"scripted:{tmp_path / 'missing.json'}")
    bad = tmp_path / "bad.json"
    bad.write_text('[{"args": {}}]')
    with pytest.raises(UsageError, match="item 0"):
        ScriptedModel(bad)


@pytest.mark.parametrize("spec, match", [
    ("gpt-4o", "openai:NAME"),
    ("openai:", "provider and a name"),
    ("local", "not available yet"),
    ("local:model.gguf", "not available yet"),
    ("nosuchprovider:model", "nosuchprovider"),
])
def test_load_model_spec_errors(spec, match):
    with pytest.raises(UsageError, match=match):
        load_model(spec)


def test_load_model_openai_and_unknown_parameters():
    chat = load_model("openai:llama3.1:8b", base_url="http://127.0.0.1:9/v1", temperature=0)
    assert isinstance(chat, OpenAIChatModel) and chat.info.name == "llama3.1:8b"
    with pytest.raises(UsageError, match="does not take"):
        load_model("openai:gpt-4o", base_url="http://127.0.0.1:9/v1", temperatur=0)


def test_missing_provider_package_names_the_pip_package():
    pytest.importorskip("langchain_core")
    try:
        import langchain_anthropic  # noqa: F401
        pytest.skip("langchain-anthropic is installed here")
    except ImportError:
        pass
    with pytest.raises(UsageError, match="pip install langchain-anthropic") as caught:
        load_model("anthropic:claude-sonnet-4-5")
    assert "\n" not in str(caught.value) and caught.value.exit_code == 2
