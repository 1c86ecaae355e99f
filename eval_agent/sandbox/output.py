"""Cutting command output: a head-and-tail view for the model, a capped copy for the record."""

from __future__ import annotations

FULL_OUTPUT_CAP = 4 * 1024 * 1024  # bytes kept for the trajectory
MODEL_OUTPUT_BUDGET = 10_000  # characters the model sees per observation


def cut_for_model(text: str, budget: int = MODEL_OUTPUT_BUDGET) -> tuple[str, int]:
    """Keep the head and the tail of `text` within `budget` characters.

    Returns the text to show and how many characters were left out (0 when nothing was)."""
    if len(text) <= budget:
        return text, 0
    head = budget * 2 // 5
    tail = budget - head
    removed = len(text) - head - tail
    notice = f"\n[... {removed} characters cut from the middle of this output ...]\n"
    return text[:head] + notice + text[-tail:], removed


class CappedBuffer:
    """Collects bytes up to `cap`, keeping the first and the last halves when it overflows."""

    def __init__(self, cap: int = FULL_OUTPUT_CAP):
        self.cap = cap
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.cap // 2 - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        excess = len(self.tail) - self.cap // 2
        if excess > 0:
            del self.tail[:excess]
            self.dropped += excess

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes dropped ...]\n".encode() if self.dropped else b""
        return bytes(self.head + middle + self.tail).decode("utf-8", errors="replace")
