"""Model backends through the real openai client against a scripted OpenAI-compatible server on
127.0.0.1: what the user sees (text, tool calls, tokens, cost, retries, errors), what was sent."""

from __future__ import annotations

import importlib.util
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
from eval_agent.errors import ToolsUnsupported  # noqa: E402
from eval_agent.models.openai_chat import NO_KEY, OpenAIChatModel  # noqa: E402
from eval_agent.models.registry import load_model, parse_spec, probe_model  # noqa: E402
from eval_agent.models.scripted import EXHAUSTED_SUMMARY, ScriptedModel  # noqa: E402


def tool(name: str, arg: str) -> dict:
    return {"type": "function", "function": {"name": name, "description": f"The {name} tool.",
            "parameters": {"type": "object", "properties": {arg: {"type": "string"}},
                           "required": [arg]}}}


BASH, FINISH = tool("bash", "command"), tool("finish", "summary")
USER = [{"role": "system", "content": "You are a coding agent."},
        {"role": "user", "content": "list the files"}]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", pricing.PRICES_ENV):
        monkeypatch.delenv(name, raising=False)


def model(server, name="gpt-4o-mini", **kwargs) -> OpenAIChatModel:
    kwargs.setdefault("backoff", 0.01)
    return OpenAIChatModel(name, base_url=server.base_url, **kwargs)


def test_plain_text_answer_without_streaming():
    with ScriptedOpenAIServer([{"content": "Hello there."}]) as server:
        response = model(server).complete(USER)
    assert (response.content, response.tool_calls) == ("Hello there.", [])
    assert response.raw == {"role": "assistant", "content": "Hello there."}
    assert response.retries == 0 and response.latency > 0
    sent = server.requests[0]
    assert sent["stream"] is False and sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == USER
    assert server.headers[0]["authorization"] == f"Bearer {NO_KEY}"  # base URL, no key


def test_streamed_text_reaches_on_text_in_pieces():
    text = "Streaming works, piece by piece."
    with ScriptedOpenAIServer([{"content": text}], chunk_size=5) as server:
        pieces: list[str] = []
        response = model(server).complete(USER, on_text=pieces.append)
    assert len(pieces) > 3 and "".join(pieces) == text == response.content
    sent = server.requests[0]
    assert (sent["stream"], sent["stream_options"]) == (True, {"include_usage": True})
    assert response.usage.input_tokens and response.usage.output_tokens


def test_native_tool_call_is_parsed_and_bad_json_arguments_kept_raw():
    script = [{"tool": "bash", "args": {"command": "ls -la"}, "content": "Looking first."},
              {"tool": "bash", "arguments": '{"command": "ls'}]
    with ScriptedOpenAIServer(script) as server:
        response = model(server).complete(USER, tools=[BASH, FINISH])
        broken = model(server).complete(USER, tools=[BASH])
    assert response.content == "Looking first."
    [call] = response.tool_calls
    assert (call.name, call.arguments) == ("bash", {"command": "ls -la"}) and call.id
    assert response.raw["tool_calls"] == [{"id": call.id, "type": "function", "function": {
        "name": "bash", "arguments": json.dumps({"command": "ls -la"})}}]
    assert [t["function"]["name"] for t in server.requests[0]["tools"]] == ["bash", "finish"]
    assert [(c.name, c.arguments) for c in broken.tool_calls] == [("bash", {})]
    assert broken.raw["tool_calls"][0]["function"]["arguments"] == '{"command": "ls'


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


@pytest.mark.parametrize("stream", [False, True])
def test_usage_and_cost_for_a_priced_model(stream):
    usage = {"prompt_tokens": 1000, "completion_tokens": 500}
    with ScriptedOpenAIServer([{"content": "ok", "usage": usage}]) as server:
        response = model(server).complete(USER, on_text=(lambda _t: None) if stream else None)
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
    assert pricing.price_of("gpt-4o-2024-08-06") == pricing.DEFAULT_PRICES["gpt-4o"]
    assert pricing.cost("no-such-model", 10, 10) is None
    assert pricing.cost("gpt-4.1", None, 10) is None
    table = pricing.load_prices({"gpt-4o": {"input": 1, "output": 1}})
    assert pricing.cost("gpt-4o", 1_000_000, 0, table) == 1.0
    monkeypatch.setenv(pricing.PRICES_ENV, "{not json")
    with pytest.raises(UsageError, match=pricing.PRICES_ENV):
        pricing.load_prices()


@pytest.mark.parametrize("status", [500, 429, 503])
def test_retries_after_a_transient_error_are_counted_then_given_up(status):
    script = [{"status": status}, {"content": "recovered"}] + [{"status": status}] * 3
    with ScriptedOpenAIServer(script) as server:
        response = model(server, max_attempts=3).complete(USER)
        assert response.content == "recovered" and response.retries == 1
        with pytest.raises(ModelError, match=rf"\({status}\).*gave up after 3 attempts"):
            model(server, max_attempts=3).complete(USER)
    assert len(server.requests) == 5


def test_bad_key_fails_at_once_and_keys_and_base_url_come_from_env_or_args(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    with ScriptedOpenAIServer([{"content": "never"}], require_key="sk-test-right") as server:
        with pytest.raises(ModelError) as caught:
            model(server).complete(USER)
    message = str(caught.value)
    assert "401" in message and "OPENAI_API_KEY" in message and "\n" not in message
    assert caught.value.exit_code == 3  # ModelError: the environment needs fixing
    assert [h["authorization"] for h in server.headers] == ["Bearer sk-wrong"]  # not retried
    with ScriptedOpenAIServer([{"content": "in"}], require_key="sk-test-right") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)  # and an explicit key
        chat = load_model("openai:gpt-4o-mini", api_key="sk-test-right")
        assert chat.complete(USER).content == "in"
    assert chat.info.base_url == server.base_url
    assert "sk-test" not in repr(chat.info)
    assert parse_spec("openai:llama3.1:8b") == ("openai", "llama3.1:8b")  # Ollama-style tags
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ModelError, match="set OPENAI_API_KEY"):  # no key for api.openai.com
        OpenAIChatModel("gpt-4o")


def test_unknown_model_names_the_model_and_the_url():
    with ScriptedOpenAIServer([{"content": "never"}], models=["gpt-4o-mini"]) as server:
        with pytest.raises(ModelError) as caught:
            model(server, "gpt-9-ultra").complete(USER)
        assert probe_model("openai:gpt-4o-mini", base_url=server.base_url).endswith("gpt-4o-mini")
        with pytest.raises(ModelError, match="it serves: gpt-4o-mini"):  # `eval-agent doctor`
            probe_model("openai:gpt-9-ultra", base_url=server.base_url)
    message = str(caught.value)
    assert "gpt-9-ultra" in message and server.base_url in message and "404" in message
    assert len(server.requests) == 1  # the chat call; probes are GETs


def test_connection_refused_names_the_url():
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    chat = OpenAIChatModel("gpt-4o-mini", base_url=url, max_attempts=2, backoff=0.01)
    with pytest.raises(ModelError) as caught:
        chat.complete(USER)
    assert url in str(caught.value) and "refused" in str(caught.value).lower()
    assert "gave up after 2 attempts" in str(caught.value)


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
    message = ("An assistant message with 'tool_calls' must be followed by tool messages "
               "responding to each 'tool_call_id'.")  # a 400 that mentions tools, but is not that
    with ScriptedOpenAIServer([{"status": 400, "body": {"error": {"message": message}}}]) as server:
        with pytest.raises(ModelError, match=r"\(400\)") as caught:
            model(server).complete(USER, tools=[BASH])
    assert not isinstance(caught.value, ToolsUnsupported)


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
    expected = [dict(m, content=m["content"] or "") for m in history]  # None goes as ""
    assert server.requests[0]["messages"] == expected


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
    assert (chat.info.provider, chat.info.name, chat.info.parameters["temperature"]) == (
        "openai", "gpt-4o-mini", 0.2)


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
    path.write_text(json.dumps([{"tool": "bash", "args": {"command": "ls"}, "content": "Looking."},
                                {"content": "Just text."}]))
    chat = load_model(f"scripted:{path}")
    seen: list[str] = []
    first, second, third = (chat.complete(USER, tools=[BASH], on_text=seen.append) for _ in "123")
    assert (first.content, first.tool_calls[0].name, first.tool_calls[0].arguments) == (
        "Looking.", "bash", {"command": "ls"})
    assert first.raw["tool_calls"][0]["id"] == first.tool_calls[0].id
    assert seen == ["Looking.", "Just text."]
    assert second.content == "Just text." and second.tool_calls == []
    assert (third.tool_calls[0].name, third.tool_calls[0].arguments) == (
        "finish", {"summary": EXHAUSTED_SUMMARY})
    assert (first.usage.cost, first.usage.input_tokens, chat.info.provider) == (0, None, "scripted")
    with pytest.raises(UsageError, match="item 0"):
        ScriptedModel([{"args": {}}])


@pytest.mark.parametrize("spec, params, match", [
    ("gpt-4o", {}, "openai:NAME"),
    ("openai:", {}, "provider and a name"),
    ("local:model.gguf", {}, "no such GGUF file"), ("local:no-such-model", {}, "not a known model"),
    ("local", {"base_url": "http://127.0.0.1:9/v1"}, "does not apply"),
    ("nosuchprovider:model", {}, "nosuchprovider"),
    ("scripted:/no/such/actions.json", {}, "no such file"),
    ("openai:gpt-4o", {"base_url": "http://127.0.0.1:9/v1", "temperatur": 0}, "does not take"),
])
def test_load_model_spec_errors(spec, params, match):
    with pytest.raises(UsageError, match=match):
        load_model(spec, **params)


def test_missing_provider_package_names_the_pip_package():
    if importlib.util.find_spec("langchain_anthropic"):
        pytest.skip("langchain-anthropic is installed here")
    with pytest.raises(UsageError, match="pip install langchain-anthropic") as caught:
        load_model("anthropic:claude-sonnet-4-5")
    assert "\n" not in str(caught.value) and caught.value.exit_code == 2
