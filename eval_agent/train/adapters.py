"""Adapters on disk: $EVAL_AGENT_HOME/adapters/NAME/ holds the PEFT adapter (peft/), the llama.cpp
LoRA adapter (adapter.gguf), the card (card.json, card.md) and training checkpoints. A model spec
names one as `local+NAME` or `local:BASE+NAME`."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..config import home
from ..errors import UsageError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
GGUF_FILE, CARD_FILE, PEFT_DIR = "adapter.gguf", "card.json", "peft"


@dataclass(frozen=True)
class Adapter:
    name: str
    folder: Path

    @property
    def gguf(self) -> Path:
        return self.folder / GGUF_FILE

    @property
    def peft(self) -> Path:
        return self.folder / PEFT_DIR

    @property
    def card(self) -> dict:
        path = self.folder / CARD_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.gguf.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def adapters_dir() -> Path:
    return home() / "adapters"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsageError(f"adapter name {name!r}: use letters, digits, '.', '_' and '-' (up to 64)")
    return name


def adapter(name: str, must_exist: bool = True) -> Adapter:
    found = Adapter(check_name(name), adapters_dir() / name)
    if must_exist and not found.gguf.is_file():
        known = ", ".join(a.name for a in all_adapters()) or "none yet"
        raise UsageError(f"no adapter named {name} in {adapters_dir()} (there: {known}); "
                         "`eval-agent finetune --out NAME` makes one")
    return found


def all_adapters() -> list[Adapter]:
    folder = adapters_dir()
    if not folder.is_dir():
        return []
    return [Adapter(path.name, path) for path in sorted(folder.iterdir()) if (path / GGUF_FILE).is_file()]


def split_spec(name: str) -> tuple[str, str | None]:
    """`BASE+ADAPTER` -> (BASE, ADAPTER); a name without a `+` adapter suffix -> (name, None)."""
    base, plus, tail = name.rpartition("+")
    if plus and NAME.match(tail):
        return base, tail
    return name, None
