"""`--json`: one JSON object per event on stdout, nothing else there."""

from __future__ import annotations

import sys
from typing import TextIO

from ..events import Event
from .terminal import json_line


class JsonLines:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write(json_line(event.to_dict()) + "\n")
        self.stream.flush()
