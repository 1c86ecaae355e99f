"""What reaches the user's terminal. Text that the sandbox or the model wrote (command output, file
names, diffs, summaries, thoughts) is shown, never obeyed: a control character or escape sequence
in it would otherwise let a command set the window title, write the clipboard (OSC 52), clear the
screen or hide a line. Such characters are drawn visibly instead (ESC as `^[`, the C1 range and
bidirectional overrides as `<U+....>`); our own colours and the live region's cursor moves are
rich's control segments and styles, which pass as they are. Records keep the bytes as they were:
only display is neutralised."""

from __future__ import annotations

import json
import re

from rich.console import Console
from rich.segment import Segment

# C0 controls but tab and newline, DEL, the C1 controls, and the bidirectional marks, embeddings,
# overrides and isolates, which reorder what is shown (the "Trojan Source" characters).
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
C1 = re.compile("[\x80-\x9f]")


def _shown(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20:
        return "^" + chr(code + 0x40)  # caret notation, as `cat -v` shows them: ESC is ^[
    if code == 0x7F:
        return "^?"
    return f"<U+{code:04X}>"


def printable(text: str) -> str:
    """`text` with every character that could steer a terminal drawn visibly (CRLF line ends
    become plain newlines; a lone carriage return, which would overwrite the line, is ^M)."""
    if not UNSAFE.search(text):
        return text
    return UNSAFE.sub(_shown, text.replace("\r\n", "\n"))


class SafeConsole(Console):
    """A rich Console that neutralises control characters in every text segment it renders, so no
    call site can forget to. Control segments (cursor moves of a Live region) are rich's own."""

    def render(self, renderable, options=None):
        for segment in super().render(renderable, options):
            if segment.control or not UNSAFE.search(segment.text):
                yield segment
            else:
                yield Segment(printable(segment.text), segment.style)


def console(stderr: bool = False, **options) -> SafeConsole:
    """The console for anything eval-agent prints for people."""
    options.setdefault("highlight", False)
    return SafeConsole(stderr=stderr, **options)


def json_line(data) -> str:
    """One JSON object for a line of `--json` output: non-ASCII text kept readable, but the C1
    controls escaped (json.dumps escapes only C0), so a terminal showing the stream obeys none."""
    line = json.dumps(data, ensure_ascii=False)
    return C1.sub(lambda match: f"\\u{ord(match.group()):04x}", line)
