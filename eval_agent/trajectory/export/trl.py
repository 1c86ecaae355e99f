"""TRL / Hugging Face datasets: a dataset folder that `datasets.load_dataset(PATH)` loads.

    PATH/README.md                        dataset card: YAML header (configs, splits), counts, filters
    PATH/data/train-00000-of-00001-ID.parquet
    PATH/data/test-00000-of-00001-ID.parquet   with --val-ratio (TRL's default eval split name)

Columns: `messages` (role, content, tool_calls with arguments as JSON objects, tool_call_id),
`tools` (the function schemas as a JSON string, as TRL's SFTTrainer takes them), and the run's
labels (run_id, model, status, verified, reward, rating, task_id, steps) for filtering later.
Arguments are stored with Arrow's JSON type, so each call keeps exactly its own keys (a struct
would give every call every tool's arguments, as nulls) and loads back as a dict.

The split is a seeded hash of the run id: a run stays in its split when the data grows and is
exported again, so no test example leaks into a later train split."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

from .examples import Example, arguments_object

BATCH_ROWS = 512


def _schema(arguments_type):
    import pyarrow as pa

    function = pa.struct([("name", pa.string()), ("arguments", arguments_type)])
    call = pa.struct([("id", pa.string()), ("type", pa.string()), ("function", function)])
    message = pa.struct([("role", pa.string()), ("content", pa.string()), ("tool_calls", pa.list_(call)),
                         ("tool_call_id", pa.string())])
    return pa.schema([("messages", pa.list_(message)), ("tools", pa.string()), ("run_id", pa.string()),
                      ("request", pa.string()), ("model", pa.string()), ("status", pa.string()),
                      ("verified", pa.bool_()), ("reward", pa.float64()), ("rating", pa.string()),
                      ("task_id", pa.string()), ("steps", pa.int32())])


def in_test_split(run_id: str, seed: int, ratio: float) -> bool:
    digest = hashlib.sha256(f"{seed}:{run_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < ratio


class TrlWriter:
    name = "trl"
    folder = True

    def __init__(self, staging: Path, val_ratio: float = 0.0, seed: int = 0, **_: Any):
        import pyarrow as pa

        self.path = staging
        (staging / "data").mkdir(parents=True)
        self.val_ratio, self.seed = val_ratio, seed
        self._storage_schema = _schema(pa.string())  # arguments go in as JSON text ...
        self._schema = _schema(pa.json_())  # ... and are written with the JSON type
        self._rows: dict[str, list[dict]] = {"train": [], "test": []}
        self._writers: dict[str, Any] = {}
        self.counts = {"train": 0, "test": 0}
        self.export_id = secrets.token_hex(4)
        self._converted: dict[str, Any] | None = None  # the last record convert() made ...
        self._argument_texts: list[str] = []  # ... and its calls' arguments as they were sent

    def convert(self, example: Example) -> dict[str, Any]:
        messages = []
        texts = []
        for message in example.messages:
            out = {"role": message["role"], "content": message["content"]}
            if message.get("tool_calls"):
                out["tool_calls"] = [{"id": call["id"], "type": "function",
                                      "function": {"name": call["function"]["name"],
                                                   "arguments": arguments_object(call["function"]["arguments"])}}
                                     for call in message["tool_calls"]]
                texts += [call["function"]["arguments"] for call in message["tool_calls"]]
            if message["role"] == "tool":
                out["tool_call_id"] = message["tool_call_id"]
            messages.append(out)
        meta = example.meta
        record = {"messages": messages, "tools": json.dumps(example.tools, ensure_ascii=False) if example.tools else None,
                  "run_id": example.run_id, "request": example.request, "model": meta.get("model"),
                  "status": meta.get("status"), "verified": meta.get("verified"), "reward": meta.get("reward"),
                  "rating": meta.get("rating"), "task_id": meta.get("task_id"), "steps": example.steps}
        self._converted, self._argument_texts = record, texts
        return record

    def write(self, record: dict[str, Any], example: Example) -> None:
        split = "test" if self.val_ratio and in_test_split(example.run_id, self.seed, self.val_ratio) else "train"
        # to storage form, arguments as JSON text: the texts they were parsed from when the gate
        # passed the record unchanged (valid JSON, or kept as a string and so written as one)
        texts = iter(self._argument_texts) if record is self._converted else None
        for message in record["messages"]:
            for call in message.get("tool_calls") or []:
                arguments = call["function"]["arguments"]
                text = next(texts) if texts is not None else None
                if text is None or isinstance(arguments, str):
                    text = json.dumps(arguments, ensure_ascii=False)
                call["function"]["arguments"] = text
        self._rows[split].append(record)
        self.counts[split] += 1
        if len(self._rows[split]) >= BATCH_ROWS:
            self._flush(split)

    def _flush(self, split: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows, self._rows[split] = self._rows[split], []
        if not rows:
            return
        table = pa.Table.from_pylist(rows, schema=self._storage_schema).cast(self._schema)
        if split not in self._writers:
            path = self.path / self.file_name(split)
            self._writers[split] = pq.ParquetWriter(path, self._schema)
        self._writers[split].write_table(table)

    def file_name(self, split: str) -> str:
        # a name of its own per export, named exactly in the card: `datasets` caches a folder's
        # dataset by its card's configs, so a re-export under the same patterns would load stale rows
        return f"data/{split}-00000-of-00001-{self.export_id}.parquet"

    def close(self, card: dict[str, Any]) -> list[Path]:
        for split in list(self._rows):
            self._flush(split)
        for writer in self._writers.values():
            writer.close()
        files = {split: self.file_name(split) for split in self.counts if self.counts[split]}
        (self.path / "README.md").write_text(dataset_card(self.counts, files, card), encoding="utf-8")
        return [self.path / "README.md"] + sorted((self.path / "data").glob("*.parquet"))

    def abort(self) -> None:
        for writer in self._writers.values():
            writer.close()


def dataset_card(counts: dict[str, int], files: dict[str, str], card: dict[str, Any]) -> str:
    import yaml

    splits = [split for split in ("train", "test") if counts[split]]
    header = {
        "configs": [{"config_name": "default",
                     "data_files": [{"split": split, "path": files[split]} for split in splits]}],
        "tags": ["eval-agent", "agent-trajectories", "tool-calling", "sft"],
        "task_categories": ["text-generation"],
    }
    filters = card.get("filters") or {}
    lines = [
        "---", yaml.safe_dump(header, sort_keys=False).rstrip(), "---", "",
        "# eval-agent trajectories", "",
        "Coding-agent runs recorded by eval-agent: each row is one run's conversation exactly as the model saw "
        "it (system, user, assistant with tool calls, tool results), ending with a content-only assistant turn. "
        "Secrets were redacted and the rows scanned with detect-secrets before writing.", "",
        "| split | trajectories |", "| --- | --- |",
        *[f"| {split} | {counts[split]} |" for split in splits], "",
        f"- steps (tool calls): {card.get('steps', 0)}",
        f"- tokens (the conversations' length, as the models counted): {card.get('tokens', 0)}",
        f"- runs in the index: {card.get('indexed', 0)}; written: {card.get('written', 0)}",
        f"- test split: {card.get('val_ratio', 0)} of the runs by a hash of the run id with seed {card.get('seed', 0)}",
        f"- exported by eval-agent {card.get('version', '')} on {card.get('created', '')}", "",
        "## Filters", "",
        *([f"- `{name}`: {json.dumps(value)}" for name, value in filters.items()] or ["- none"]), "",
        "## Load", "", "```python", "from datasets import load_dataset",
        "dataset = load_dataset(\"PATH\")  # this folder", "```", "",
    ]
    return "\n".join(lines)
