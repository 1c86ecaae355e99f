"""Each export format, from trajectories of real `eval-agent run`s (real Docker, the scripted
server), read back by the trainers' own loaders: the openai client's types, `datasets`, a real
chat template through transformers, LLaMA-Factory's sharegpt rules."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import cli_env, run_cli
from openai_server import ScriptedOpenAIServer

PLAN = {"content": "- [ ] write hello.py\n- [ ] run it"}
NATIVE_SCRIPT = [
    PLAN,
    {"tool": "write_file", "args": {"path": "hello.py", "content": "print('hello')\n"}, "content": "Writing the script."},
    {"tool": "bash", "args": {"command": "python3 hello.py"}},
    {"tool": "bash", "args": {"command": "cat missing.txt"}},  # fails: exit 1
    {"tool": "finish", "args": {"summary": "hello.py prints hello."}},
]
TEXT_SCRIPT = [PLAN, {"content": "ACTION: bash\n```\necho text-mode-ok\n```"}, {"content": "ACTION: finish\nEchoed."}]

# Qwen2.5-Instruct's chat template (tool calling as <tool_call> JSON, results as <tool_response>),
# shipped here as text so that no hub download is needed; it is rendered by transformers itself.
QWEN25_TEMPLATE = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, sandbox_image):
    """A home with two real runs: native tools (one failed step), and the text protocol."""
    root = tmp_path_factory.mktemp("export-formats")
    home = root / "home"
    for name, script, extra in (("native", NATIVE_SCRIPT, []), ("text", TEXT_SCRIPT, ["--tool-mode", "text"])):
        workspace = root / name
        workspace.mkdir()
        with ScriptedOpenAIServer(script).start() as server:
            result = run_cli(["run", f"the {name} request", "--model", "openai:demo", "--json", "-w", str(workspace),
                              *extra], cli_env(home, server))
        assert result.returncode == 0, result.stderr
    return home


def export(home, *args: str) -> str:
    result = run_cli(["export", *args], cli_env(home))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_openai_format_is_what_the_openai_client_takes_and_ends_on_a_plain_answer(recorded, tmp_path):
    from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
    from pydantic import TypeAdapter

    out = tmp_path / "train.jsonl"
    summary = export(recorded, "--format", "openai", "--out", str(out))
    assert "exported 2 of 2 runs as openai" in summary and "dropped: none" in summary
    records = [json.loads(line) for line in out.read_text().splitlines()]
    native = next(r for r in records if "the native request" in r["messages"][1]["content"])
    text = next(r for r in records if "the text request" in r["messages"][1]["content"])
    for record in records:
        messages = TypeAdapter(list[ChatCompletionMessageParam]).validate_python(record["messages"])
        for message in messages:
            list(message.get("tool_calls") or [])  # the client's types check tool calls lazily
        assert record["messages"][0]["role"] == "system"
        last = record["messages"][-1]
        assert last["role"] == "assistant" and last["content"] and "tool_calls" not in last
    TypeAdapter(list[ChatCompletionToolParam]).validate_python(native["tools"])
    assert {tool["function"]["name"] for tool in native["tools"]} == {"bash", "read_file", "write_file", "edit_file", "finish"}
    calls = [call for m in native["messages"] for call in m.get("tool_calls") or []]
    assert [call["function"]["name"] for call in calls] == ["write_file", "bash", "bash", "finish"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"path": "hello.py", "content": "print('hello')\n"}
    answered = {m["tool_call_id"] for m in native["messages"] if m["role"] == "tool"}
    assert answered == {call["id"] for call in calls}, "every call has its result"
    assert native["messages"][-1]["content"] == "hello.py prints hello."
    assert "tools" not in text, "a text-protocol run was sent no tool schemas"
    assert any("ACTION: bash" in m["content"] for m in text["messages"] if m["role"] == "assistant")

    weighted = tmp_path / "weighted.jsonl"
    export(recorded, "--format", "openai", "--out", str(weighted), "--weight-failed-steps", "0")
    native = next(json.loads(line) for line in weighted.read_text().splitlines() if "the native request" in line)
    weights = [(m.get("tool_calls", [{}])[0].get("function", {}).get("arguments", ""), m["weight"])
               for m in native["messages"] if m["role"] == "assistant"]
    assert [weight for _, weight in weights] == [1, 1, 1, 0, 1, 1]
    assert "missing.txt" in weights[3][0], "the failed action is the one with weight 0"


def test_trl_folder_loads_with_datasets_and_renders_through_a_real_chat_template(recorded, tmp_path):
    import datasets
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    out = tmp_path / "trl"
    summary = export(recorded, "--format", "trl", "--out", str(out))
    assert "exported 2 of 2 runs as trl" in summary
    card = (out / "README.md").read_text()
    assert card.startswith("---\nconfigs:\n- config_name: default\n") and "split: train" in card and "| train | 2 |" in card
    dataset = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf-cache"))
    assert list(dataset) == ["train"] and dataset["train"].num_rows == 2
    row = next(r for r in dataset["train"] if r["request"] == "the native request")
    assert row["status"] == "finished" and row["steps"] == 4 and row["run_id"]
    tools = json.loads(row["tools"])
    calls = [call for m in row["messages"] if m["tool_calls"] for call in m["tool_calls"]]
    assert calls[0]["function"]["arguments"] == {"path": "hello.py", "content": "print('hello')\n"}, "arguments are objects"
    assert calls[1]["function"]["arguments"] == {"command": "python3 hello.py"}, "each call keeps only its own keys"

    vocabulary = {"[UNK]": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    core = Tokenizer(models.WordLevel(vocabulary, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]",
                                        additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    tokenizer.chat_template = QWEN25_TEMPLATE
    messages = [{key: value for key, value in m.items() if value is not None} for m in row["messages"]]
    rendered = tokenizer.apply_chat_template(messages, tools=tools, tokenize=False)
    assert rendered.startswith("<|im_start|>system\nYou are eval-agent") and "# Tools" in rendered
    assert '<tool_call>\n{"name": "bash", "arguments": {"command": "python3 hello.py"}}\n</tool_call>' in rendered
    assert "<tool_response>\nhello\n" in rendered
    assert rendered.rstrip().endswith("<|im_start|>assistant\nhello.py prints hello.<|im_end|>")
    ids = tokenizer.apply_chat_template(messages, tools=tools, tokenize=True)
    ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
    assert ids.count(1) == rendered.count("<|im_start|>") and ids.count(1) >= 8

    export(recorded, "--format", "trl", "--out", str(out), "--limit", "1")  # again, into the same folder
    reloaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf-cache"))
    assert reloaded["train"].num_rows == 1, "a re-export is loaded afresh, not from datasets' cache"


def llama_factory_sharegpt_check(example: dict) -> list[dict]:
    """LLaMA-Factory's SharegptDatasetConverter rules (data/converter.py), applied as it applies
    them: human/observation on odd turns, gpt/function_call on even ones, an even count."""
    odd, even = ("human", "observation"), ("gpt", "function_call")
    messages = example["conversations"]
    assert messages and all(set(m) == {"from", "value"} for m in messages)
    for index, message in enumerate(messages):
        assert message["from"] in (odd, even)[index % 2], f"invalid role tag at turn {index}: {message['from']}"
    assert len(messages) % 2 == 0, "invalid message count"
    for message in messages:
        if message["from"] == "function_call":  # FunctionFormatter: {"name", "arguments"} or a list of them
            calls = json.loads(message["value"])
            for call in calls if isinstance(calls, list) else [calls]:
                assert set(call) == {"name", "arguments"} and isinstance(call["arguments"], dict)
    return messages


def test_sharegpt_follows_llama_factory_rules_with_its_dataset_info(recorded, tmp_path):
    out = tmp_path / "sharegpt"
    export(recorded, "--format", "sharegpt", "--out", str(out))
    info = json.loads((out / "dataset_info.json").read_text())
    entry = info["eval_agent_sharegpt"]
    assert entry["formatting"] == "sharegpt" and entry["columns"] == {"messages": "conversations", "system": "system",
                                                                      "tools": "tools"}
    data = json.loads((out / entry["file_name"]).read_text())
    assert len(data) == 2
    native = next(e for e in data if "the native request" in e["conversations"][0]["value"])
    turns = llama_factory_sharegpt_check(native)
    assert [t["from"] for t in turns][-3:] == ["function_call", "observation", "gpt"]
    assert native["system"].startswith("You are eval-agent")
    tools = json.loads(native["tools"])
    assert {t["name"] for t in tools} == {"bash", "read_file", "write_file", "edit_file", "finish"} and "parameters" in tools[0]
    text = next(e for e in data if "the text request" in e["conversations"][0]["value"])
    assert set(t["from"] for t in llama_factory_sharegpt_check(text)) == {"human", "gpt"} and text["tools"] == ""


def test_alpaca_has_the_request_and_the_whole_trace(recorded, tmp_path):
    import datasets

    out = tmp_path / "alpaca"
    export(recorded, "--format", "alpaca", "--out", str(out))
    entry = json.loads((out / "dataset_info.json").read_text())["eval_agent_alpaca"]
    assert entry["formatting"] == "alpaca" and entry["columns"]["prompt"] == "instruction"
    dataset = datasets.load_dataset("json", data_files=str(out / entry["file_name"]), split="train",
                                   cache_dir=str(tmp_path / "hf-cache"))
    row = next(r for r in dataset if r["instruction"] == "the native request")
    assert row["input"] == "" and row["system"].startswith("You are eval-agent")
    output = row["output"]
    assert output.startswith("Thought: - [ ] write hello.py")
    assert 'Action: bash[{"command": "python3 hello.py"}]\nObservation: hello' in output
    assert output.rstrip().endswith("Final Answer: hello.py prints hello.")


def test_a_second_export_replaces_the_first_and_a_foreign_folder_is_refused(recorded, tmp_path):
    out = tmp_path / "sharegpt"
    export(recorded, "--format", "sharegpt", "--out", str(out))
    export(recorded, "--format", "sharegpt", "--out", str(out), "--limit", "1")
    assert len(json.loads((out / "eval_agent_sharegpt.json").read_text())) == 1
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    result = run_cli(["export", "--format", "trl", "--out", str(foreign)], cli_env(recorded))
    assert result.returncode == 2 and "other files" in result.stderr and (foreign / "notes.txt").exists()
    bad = run_cli(["export", "--format", "csv", "--out", str(tmp_path / "x")], cli_env(recorded))
    assert bad.returncode == 2 and "use one of openai, trl, sharegpt, alpaca" in bad.stderr
    shutil.rmtree(out)
