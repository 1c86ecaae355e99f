"""In `--tool-mode json` (the embedded model's mode) each answer streams in as a JSON object:
`{"thought": "...", "action": {...}}`. A person watching wants the thought as it is written, not
the braces and the escaped arguments; the action is shown anyway by the step that follows.

ThoughtStream takes the streamed chunks of one answer and gives back the text to show: the
thought's characters as they arrive (escapes decoded), nothing after it, and any answer that is
not a JSON object as it is (prose from a server that ignored the schema)."""

from __future__ import annotations

import re

THOUGHT_START = re.compile(r'\s*\{\s*"thought"\s*:\s*"')
UNDECIDED_CHARS = 16  # an object that does not open with its thought within this many: show none of it
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "\\": "\\", "/": "/"}


class ThoughtStream:
    def __init__(self) -> None:
        self._buffer = ""
        self._kind: str | None = None  # "thought", "raw" (not JSON) or "hidden" (JSON without a leading thought)
        self._next = 0  # where the thought's next undecoded character is in the buffer
        self._closed = False  # its closing quote has come: nothing more to show
        self._shown = 0  # characters of the thought given out so far

    @property
    def hidden(self) -> bool:
        """Nothing of this answer was shown: the caller shows the decoded thought at its end."""
        return self._shown == 0

    def feed(self, chunk: str) -> str:
        self._buffer += chunk
        if self._kind is None:
            self._decide()
        if self._kind == "raw":
            return chunk if self._shown else self._flush_raw()
        if self._kind != "thought" or self._closed:
            return ""
        new, self._next, self._closed = _string_part(self._buffer, self._next)
        self._shown += len(new)
        return new

    def _decide(self) -> None:
        opened = self._buffer.lstrip()
        offset = len(self._buffer) - len(opened)
        if opened and "```".startswith(opened):  # perhaps a fence: wait for the rest of it
            return
        if opened.startswith("```"):  # an unconstrained answer may fence its JSON: look inside
            if "\n" not in opened:
                return
            opened = opened[opened.index("\n") + 1:].lstrip()
            offset = len(self._buffer) - len(opened)
        if not opened:
            return
        if not opened.startswith("{"):
            self._kind = "raw"
        elif (match := THOUGHT_START.match(self._buffer, offset)) is not None:
            self._kind, self._next = "thought", match.end()
        elif len(opened) >= UNDECIDED_CHARS:
            self._kind = "hidden"

    def _flush_raw(self) -> str:
        self._shown = len(self._buffer)
        return self._buffer


def _string_part(text: str, start: int) -> tuple[str, int, bool]:
    """(characters, where decoding stopped, closed): the decoded characters of a JSON string from
    `start` on, as far as they are complete (an escape cut in the middle waits for the next
    chunk), and whether its closing quote was reached."""
    out: list[str] = []
    index = start
    while index < len(text):
        char = text[index]
        if char == '"':
            return "".join(out), index, True
        if char != "\\":
            out.append(char)
            index += 1
            continue
        if index + 1 >= len(text):
            break
        code = text[index + 1]
        if code != "u":
            out.append(ESCAPES.get(code, code))
            index += 2
            continue
        if index + 6 > len(text):
            break
        try:
            value = int(text[index + 2:index + 6], 16)
        except ValueError:
            value = 0xFFFD
        if 0xD800 <= value < 0xDC00:  # a surrogate pair comes as two escapes
            if index + 12 > len(text):
                break
            low = text[index + 6:index + 12]
            second = _hex(low[2:]) if low.startswith("\\u") else None
            if second is not None and 0xDC00 <= second < 0xE000:
                out.append(chr(0x10000 + ((value - 0xD800) << 10) + (second - 0xDC00)))
                index += 12
                continue
            value = 0xFFFD
        out.append(chr(0xFFFD if 0xDC00 <= value < 0xE000 else value))
        index += 6
    return "".join(out), index, False


def _hex(text: str) -> int | None:
    try:
        return int(text, 16)
    except ValueError:
        return None
