"""`eval-agent finetune`: recorded runs -> examples as the served model sees them -> a LoRA adapter
(PEFT, and GGUF for llama.cpp) -> its card. The runs are chosen by the export filters (verified
ones, a family, a time range ...) or are those of a `trl` export folder."""

from __future__ import annotations

import collections
import json
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__
from ..errors import UsageError
from ..trajectory.export.filters import RunFilters, select_runs
from ..trajectory.export.trl import in_test_split
from ..trajectory.reader import TrajectoryError, read_trajectory
from ..trajectory.store import open_store, sync
from .adapters import CARD_FILE, GGUF_FILE, PEFT_DIR, Adapter, adapter
from .base import Base, load_for_training, resolve_base
from .lora import TrainOptions, TrainResult, train
from .render import Example, Renderer, load_tokenizer


@dataclass
class FinetuneRequest:
    name: str
    base: str = "local"
    filters: RunFilters = field(default_factory=RunFilters)
    data: Path | None = None  # a `trl` export folder: train on its runs
    options: TrainOptions = field(default_factory=TrainOptions)
    resume: bool = False


def finetune(home: Path, request: FinetuneRequest, log: Callable[[str], None] = print,
             on_step: Callable[[TrainResult], None] = lambda result: None) -> Adapter:
    target = adapter(request.name, must_exist=False)
    if target.folder.exists() and not request.resume:
        raise UsageError(f"an adapter named {request.name} exists ({target.folder}): pass --resume to go on "
                         "training it, or another --out")
    base = resolve_base(request.base)
    run_ids, chosen = _chosen_runs(home, request)
    log(f"{len(run_ids)} runs chosen ({chosen}); reading the base's tokenizer and chat template")
    tokenizer = load_tokenizer(base.path)
    examples, left_out = render_all(home, run_ids, Renderer(tokenizer, base.form), request.options.max_tokens)
    for reason, count in left_out.items():
        log(f"left out {count}: {reason}")
    options = request.options
    validation = [e for e in examples if options.val_ratio and in_test_split(e.run_id, options.seed, options.val_ratio)]
    training = [e for e in examples if e not in validation]
    if not training:
        raise UsageError("no run is left to train on: run some (e.g. `eval-agent bench ... --attempts 4`), "
                         "or loosen the filters")
    device = options.resolved_device()
    log(f"training on {len(training)} examples ({sum(e.trained_tokens for e in training)} trained tokens), "
        f"{len(validation)} held out, on the {device}; loading {base.label}")
    started = time.monotonic()
    model = load_for_training(base, device)
    target.folder.mkdir(parents=True, exist_ok=True)
    tuned, result = train(model, tokenizer, training, validation, target.folder / "checkpoints", options,
                          resume=request.resume, on_step=on_step)
    if request.resume:  # the curve goes on from where the last session stopped
        before = (target.card.get("training") or {})
        first = min((step for step, _ in result.losses), default=result.steps + 1)
        result.losses = [tuple(p) for p in before.get("loss", []) if p[0] < first] + result.losses
        result.eval_losses = [tuple(p) for p in before.get("eval_loss", []) if p[0] < first] + result.eval_losses
    with warnings.catch_warnings():  # peft looks for the base's config.json next to a GGUF file
        warnings.filterwarnings("ignore", message="Could not find a config file")
        tuned.save_pretrained(str(target.peft))
    from .gguf_lora import write_gguf_adapter

    adapted = write_gguf_adapter(target.peft, target.gguf, base.architecture, base.layers)
    card = _card(request, base, training, validation, left_out, options, device, result, adapted,
                 time.monotonic() - started, chosen)
    write_card(target, card)
    return target


def _chosen_runs(home: Path, request: FinetuneRequest) -> tuple[list[str], str]:
    if request.data is not None:
        return data_run_ids(request.data), f"the runs of {request.data}"
    with open_store(home) as store:
        sync(store)
        runs = select_runs(store.runs(), request.filters)
    described = ", ".join(f"{key} {value}" for key, value in request.filters.describe().items()) or "every run"
    return [run.run_id for run in runs], described


def data_run_ids(folder: Path) -> list[str]:
    """The runs of a `trl` export folder (its parquet files' run_id column)."""
    import pyarrow.parquet as pq

    files = sorted((folder / "data").glob("*.parquet"))
    if not files:
        raise UsageError(f"{folder} is not a trl export folder (no data/*.parquet): "
                         "make one with `eval-agent export --format trl --out DIR`")
    return [run_id for path in files for run_id in pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist()]


def render_all(home: Path, run_ids: list[str], renderer: Renderer, max_tokens: int
               ) -> tuple[list[Example], collections.Counter]:
    examples, left_out = [], collections.Counter()
    paths = {}
    with open_store(home) as store:
        for run in store.runs():
            paths[run.run_id] = Path(run.path)
    for run_id in run_ids:
        try:
            trajectory = read_trajectory(paths[run_id]) if run_id in paths else None
        except TrajectoryError:
            trajectory = None
        if trajectory is None:
            left_out["its record is not in this home"] += 1
            continue
        why = renderer.form.matches(trajectory)
        if why:
            left_out[f"prompted otherwise than the served model ({why})"] += 1
            continue
        try:
            example = renderer.example(trajectory)
        except UsageError as exc:
            left_out[str(exc).split(": ", 1)[-1]] += 1
            continue
        if len(example.input_ids) > max_tokens:
            left_out[f"longer than --max-tokens {max_tokens}"] += 1
            continue
        examples.append(example)
    return examples, left_out


def _card(request: FinetuneRequest, base: Base, training: list[Example], validation: list[Example],
          left_out: collections.Counter, options: TrainOptions, device: str, result: TrainResult, adapted: int,
          seconds: float, chosen: str) -> dict:
    return {
        "name": request.name, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "eval_agent": __version__,
        "base": {"spec": base.spec, "model": base.label, "file": str(base.path), "sha256": base.sha256,
                 "architecture": base.architecture, "served_as": asdict(base.form)},
        "data": {"chosen": chosen, "filters": request.filters.describe(),
                 "data_folder": str(request.data) if request.data else None,
                 "train_runs": [e.run_id for e in training], "validation_runs": [e.run_id for e in validation],
                 "tasks": sorted({e.task_id for e in training + validation if e.task_id}),
                 "left_out": dict(left_out), "tokens": sum(len(e.input_ids) for e in training),
                 "trained_tokens": sum(e.trained_tokens for e in training)},
        "hyperparameters": {**asdict(options), "device": device},
        "training": {"steps": result.steps, "planned_steps": result.total_steps, "interrupted": result.interrupted,
                     "seconds": round(seconds, 1), "tokens_per_second": round(result.tokens_per_second, 1),
                     "loss": result.losses, "eval_loss": result.eval_losses, "adapted_weights": adapted},
        "evaluation": None,
    }


def serving_spec(base_spec: str, base_file: str, name: str) -> str | None:
    """The model spec that runs the base with this adapter (None for a Hugging Face base)."""
    if base_spec == "local" or base_spec.startswith("local:"):
        return f"{base_spec}+{name}"
    return f"local:{base_file}+{name}" if base_file.endswith(".gguf") else None


def write_card(target: Adapter, card: dict) -> None:
    (target.folder / CARD_FILE).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    (target.folder / "card.md").write_text(card_markdown(card), encoding="utf-8")


def card_markdown(card: dict) -> str:
    base, data, training = card["base"], card["data"], card["training"]
    losses = training["loss"]
    shown = losses if len(losses) <= 12 else [losses[round(i * (len(losses) - 1) / 11)] for i in range(12)]
    lines = [f"# Adapter {card['name']}", "",
             f"- base: {base['model']} (`{base['file']}`, sha256 {base['sha256'][:16]}..., {base['architecture']}), "
             f"served as {base['served_as']['tool_mode']} actions",
             f"- data: {len(data['train_runs'])} runs ({data['chosen']}), {len(data['validation_runs'])} held out, "
             f"{data['trained_tokens']} trained tokens of {data['tokens']}; tasks: {len(data['tasks'])}",
             f"- left out: {', '.join(f'{n} {r}' for r, n in data['left_out'].items()) or 'none'}",
             f"- training: {training['steps']} of {training['planned_steps']} steps"
             f"{' (interrupted)' if training['interrupted'] else ''}, {training['seconds']:.0f} s, "
             f"{training['tokens_per_second']:.0f} tokens/s on the {card['hyperparameters']['device']}",
             f"- hyper-parameters: {', '.join(f'{k} {v}' for k, v in card['hyperparameters'].items())}",
             "", "| step | loss |", "| --- | --- |"] + [f"| {step} | {loss:.4f} |" for step, loss in shown]
    if card.get("evaluation"):
        lines += ["", "## Evaluation", "", card["evaluation"].get("table", "")]
    serve = serving_spec(base["spec"], base["file"], card["name"])
    lines += ["", f"Files: `{PEFT_DIR}/` (PEFT), `{GGUF_FILE}` (llama.cpp)."
              + (f" Run with it: `--model {serve}`" if serve else "")]
    return "\n".join(lines) + "\n"
