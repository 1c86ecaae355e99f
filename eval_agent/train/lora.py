"""LoRA training with PEFT and TRL's SFT trainer, on examples rendered as the served model sees them
(render.py), the loss on the assistant turns only (their labels; everything else is -100).

A progress line per step (step, loss, tokens per second, time left); Ctrl-C finishes the step,
saves a checkpoint and stops; --resume goes on from the last checkpoint."""

from __future__ import annotations

import signal
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .render import Example

TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class TrainOptions:
    epochs: float = 2.0
    lr: float = 2e-4
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    max_tokens: int = 8192  # longer examples are left out, not cut: a cut run teaches half a task
    val_ratio: float = 0.0
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    grad_accum: int = 4
    save_steps: int = 25

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class TrainResult:
    steps: int = 0
    total_steps: int = 0
    losses: list[tuple[int, float]] = field(default_factory=list)
    eval_losses: list[tuple[int, float]] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def train(model, tokenizer, train_set: list[Example], val_set: list[Example], checkpoints: Path,
          options: TrainOptions, resume: bool = False,
          on_step: Callable[[TrainResult], None] = lambda result: None) -> tuple[object, TrainResult]:
    """Trains a LoRA adapter on `model`; returns the PEFT model and what happened."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    device = options.resolved_device()
    result = TrainResult()
    stop = {"asked": False}

    class Watch(TrainerCallback):
        """Counts tokens and time, reports each step, and stops cleanly on Ctrl-C."""

        def __init__(self):
            self.started = time.monotonic()
            self.batch_tokens = 0

        def on_train_begin(self, args, state, control, **kwargs):
            result.total_steps = state.max_steps

        def on_step_end(self, args, state, control, **kwargs):
            result.steps, result.seconds = state.global_step, time.monotonic() - self.started
            result.tokens = int(state.global_step * options.grad_accum * average)  # the examples are shuffled
            if stop["asked"]:
                control.should_save, control.should_training_stop = True, True
                result.interrupted = True

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" in logs:
                result.losses.append((state.global_step, float(logs["loss"])))
                on_step(result)
            if "eval_loss" in logs:
                result.eval_losses.append((state.global_step, float(logs["eval_loss"])))

    def rows(examples: list[Example]) -> Dataset:
        return Dataset.from_list([{"input_ids": e.input_ids, "labels": e.labels} for e in examples])

    average = sum(len(e.input_ids) for e in train_set) / max(len(train_set), 1)
    config = SFTConfig(
        output_dir=str(checkpoints), num_train_epochs=options.epochs, learning_rate=options.lr,
        per_device_train_batch_size=1, gradient_accumulation_steps=options.grad_accum, logging_steps=1,
        save_strategy="steps", save_steps=options.save_steps, save_total_limit=2, report_to=[],
        seed=options.seed, max_length=options.max_tokens, use_cpu=device == "cpu", bf16=device == "cuda",
        eval_strategy="epoch" if val_set else "no", disable_tqdm=True, lr_scheduler_type="cosine",
        warmup_steps=0.03, gradient_checkpointing=False, dataloader_pin_memory=False,
    )
    trainer = SFTTrainer(
        model=model, args=config, train_dataset=rows(train_set), eval_dataset=rows(val_set) if val_set else None,
        processing_class=tokenizer, callbacks=[Watch()],
        peft_config=LoraConfig(r=options.rank, lora_alpha=options.alpha, lora_dropout=options.dropout,
                               target_modules=TARGET_MODULES, task_type="CAUSAL_LM"),
    )
    # our own progress line replaces the trainer's printed dicts
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.update(asked=True))
    try:
        with warnings.catch_warnings():  # peft looks for the base's config.json next to a GGUF file
            warnings.filterwarnings("ignore", message="Could not find a config file")
            trainer.train(resume_from_checkpoint=True if resume and any(checkpoints.glob("checkpoint-*")) else None)
    finally:
        signal.signal(signal.SIGINT, previous)
    return trainer.model, result
