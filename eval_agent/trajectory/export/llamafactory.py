"""What the alpaca and sharegpt exports share: LLaMA-Factory's folder layout, a JSON array of
records written as they come, and the `dataset_info.json` entry that describes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .examples import Example


class LlamaFactoryWriter:
    name = ""
    folder = True
    dataset_name = ""

    def __init__(self, staging: Path, **_: Any):
        self.path = staging
        staging.mkdir(parents=True)
        self._file = open(staging / self.file_name, "w", encoding="utf-8")
        self._file.write("[")
        self._count = 0

    @property
    def file_name(self) -> str:
        return f"{self.dataset_name}.json"

    def convert(self, example: Example) -> dict[str, Any]:
        raise NotImplementedError

    def dataset_info(self) -> dict[str, Any]:
        """The entry's fields besides file_name: formatting, columns, tags."""
        raise NotImplementedError

    def write(self, record: dict[str, Any], example: Example) -> None:
        self._file.write(("," if self._count else "") + "\n" + json.dumps(record, ensure_ascii=False))
        self._count += 1

    def close(self, card: dict[str, Any]) -> list[Path]:
        self._file.write("\n]\n")
        self._file.close()
        info = {self.dataset_name: {"file_name": self.file_name, **self.dataset_info()}}
        (self.path / "dataset_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        return [self.path / self.file_name, self.path / "dataset_info.json"]

    def abort(self) -> None:
        self._file.close()
