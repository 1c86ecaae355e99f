"""Training throughput: eval-agent's trainer (eval_agent.train.lora.train: progress line, Ctrl-C
watch, its settings) against a bare TRL loop (SFTTrainer with the same model, data, LoRA and
batch, nothing of ours), in one run, trained tokens per second. Goal: ours >= 0.9 of bare.

The model is the catalog's SmolLM2-135M (from PyPI; rebuilt as a trainable model from its GGUF),
or --base FILE.gguf; the data, chat-rendered conversations of agent-like turns with the loss on
the assistant turns only, the same for both. CPU unless CUDA is present.

    python benchmarks/train_throughput.py [--base FILE.gguf] [--examples 16] [--steps 6] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from eval_agent.models.weights import CATALOG, ensure_weights, models_dir
from eval_agent.train.base import load_for_training, resolve_base
from eval_agent.train.lora import TARGET_MODULES, TrainOptions, train
from eval_agent.train.render import IGNORED, Example, load_tokenizer


def examples(tokenizer, count: int) -> list[Example]:
    """Conversations shaped like runs: a system prompt, a request, then JSON actions and outputs."""
    made = []
    for index in range(count):
        messages = [{"role": "system", "content": "You are a coding agent. Answer with one JSON action. " * 8},
                    {"role": "user", "content": f"Task {index}: count the lines of data{index}.csv into out.txt."}]
        for step in range(4):
            messages.append({"role": "assistant", "content": json.dumps(
                {"tool": "bash", "command": f"wc -l data{index}.csv | cut -d' ' -f1 > out{step}.txt && cat out{step}.txt"})})
            messages.append({"role": "user", "content": f"exit code 0\n{index * 7 + step}\n" + "ok " * 40})
        spans, text = [], ""
        for cut in range(2, len(messages) + 1):
            before = tokenizer.apply_chat_template(messages[:cut - 1], tokenize=False, add_generation_prompt=True)
            through = tokenizer.apply_chat_template(messages[:cut], tokenize=False)
            if messages[cut - 1]["role"] == "assistant":
                spans.append((len(before), len(through.rstrip("\n"))))
            text = through
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        labels = [token if any(a <= s and e <= b and e > s for a, b in spans) else IGNORED
                  for token, (s, e) in zip(encoded["input_ids"], encoded["offset_mapping"])]
        made.append(Example(f"bench-{index}", None, list(encoded["input_ids"]), labels))
    return made


def bare_trl(model, tokenizer, data: list[Example], folder: Path, options: TrainOptions, steps: int) -> float:
    """SFTTrainer as its documentation shows it, the same settings; returns seconds."""
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(output_dir=str(folder), max_steps=steps, learning_rate=options.lr,
                       per_device_train_batch_size=1, gradient_accumulation_steps=options.grad_accum,
                       logging_steps=1, save_strategy="no", report_to=[], seed=options.seed,
                       max_length=options.max_tokens, use_cpu=options.resolved_device() == "cpu",
                       bf16=options.resolved_device() == "cuda", disable_tqdm=True)
    trainer = SFTTrainer(model=model, args=config, processing_class=tokenizer,
                         train_dataset=Dataset.from_list([{"input_ids": e.input_ids, "labels": e.labels} for e in data]),
                         peft_config=LoraConfig(r=options.rank, lora_alpha=options.alpha, lora_dropout=options.dropout,
                                                target_modules=TARGET_MODULES, task_type="CAUSAL_LM"))
    started = time.monotonic()
    trainer.train()
    return time.monotonic() - started


def ours(model, tokenizer, data: list[Example], folder: Path, options: TrainOptions) -> float:
    started = time.monotonic()
    train(model, tokenizer, data, [], folder, options)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a GGUF file (default: the catalog's smollm2-135m)")
    parser.add_argument("--examples", type=int, default=16)
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per trainer (4 examples each)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of both trainers")
    args = parser.parse_args()
    path = Path(args.base) if args.base else ensure_weights(CATALOG["smollm2-135m"], models_dir())
    base = resolve_base(str(path))
    tokenizer = load_tokenizer(base.path)
    options = TrainOptions(rank=16, alpha=32, save_steps=10_000)
    data = examples(tokenizer, args.examples)
    options.epochs = args.steps * options.grad_accum / len(data)  # the same number of steps for both
    trained = args.steps * options.grad_accum * (sum(e.trained_tokens for e in data) / len(data))
    tokens = args.steps * options.grad_accum * (sum(len(e.input_ids) for e in data) / len(data))
    device = options.resolved_device()
    print(f"{base.label} on the {device}: {len(data)} examples of {tokens / args.steps / options.grad_accum:.0f} "
          f"tokens, {args.steps} steps of {options.grad_accum}, {args.rounds} rounds")
    times = {"ours": [], "bare TRL": []}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            for name in (("ours", "bare TRL") if round_ % 2 == 0 else ("bare TRL", "ours")):
                model = load_for_training(base, device)
                folder = Path(scratch) / f"{name.replace(' ', '-')}-{round_}"
                seconds = (ours(model, tokenizer, data, folder, options) if name == "ours"
                           else bare_trl(model, tokenizer, data, folder, options, args.steps))
                times[name].append(seconds)
                print(f"  round {round_ + 1} {name:9s} {seconds:6.1f} s  {tokens / seconds:7.0f} tokens/s")
    best = {name: min(values) for name, values in times.items()}
    print(f"\nbest of {args.rounds}: ours {tokens / best['ours']:.0f} tokens/s ({trained / best['ours']:.0f} trained), "
          f"bare TRL {tokens / best['bare TRL']:.0f} tokens/s")
    print(f"ratio ours / bare TRL: {best['bare TRL'] / best['ours']:.2f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
