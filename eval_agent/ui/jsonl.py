"""`--json`: one JSON object per event on stdout, nothing else there."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from ..events import Event


class JsonLines:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        self.stream.flush()
