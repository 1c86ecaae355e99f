"""The plain-text tool protocol, for models without native function calling.

The model ends its answer with `ACTION: NAME [ARGS]` followed by fenced blocks carrying raw text
(file contents are never JSON-escaped). prompts/text_protocol.j2 teaches the form; this module
parses it leniently (case, spacing, a missing closing fence at the very end) and turns it into the
same canonical ToolCall as native calls, so the trajectory does not depend on the mode."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import FormatError
from ..models.base import ToolCall

ACTION_LINE = re.compile(r"^[ \t>*_`#]*ACTION[*_`]*\s*:\s*[*_`]*([A-Za-z_]+)[*_`]*[ \t]*(.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+.-]*)[ \t]*$", re.MULTILINE)
LINE_RANGE = re.compile(r"^(.*?)\s+\[?(\d+)\s*[-:]\s*(\d+)?\]?$")


@dataclass
class Block:
    label: str
    text: str


def parse_action(content: str) -> ToolCall:
    matches = list(ACTION_LINE.finditer(content or ""))
    if not matches:
        raise FormatError("no `ACTION:` line was found.")
    if len(matches) > 1:
        names = ", ".join(m.group(1) for m in matches)
        raise FormatError(f"found {len(matches)} actions ({names}); give exactly one per answer.")
    match = matches[0]
    name, argument = match.group(1).lower(), match.group(2).strip().strip("`")
    rest = content[match.end():]
    blocks = _fenced_blocks(rest)
    parser = _PARSERS.get(name)
    if parser is None:
        raise FormatError(f"unknown action `{name}`; use one of: {', '.join(_PARSERS)}.")
    return ToolCall(name=name, arguments=parser(argument, blocks, rest))


def _fenced_blocks(text: str) -> list[Block]:
    blocks, position = [], 0
    while True:
        opening = FENCE_OPEN.search(text, position)
        if not opening:
            return blocks
        fence = opening.group(1)
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        body_start = opening.end() + 1
        end = closing.search(text, body_start)
        if end is None:  # an unclosed fence at the end of the answer: take the rest
            blocks.append(Block(opening.group(2).lower(), text[body_start:]))
            return blocks
        blocks.append(Block(opening.group(2).lower(), text[body_start:end.start()]))
        position = end.end()


def _require_path(argument: str, action: str) -> str:
    if not argument:
        raise FormatError(f"`ACTION: {action}` needs a path on the same line, e.g. `ACTION: {action} app.py`.")
    return argument


def _bash(argument: str, blocks: list[Block], rest: str) -> dict:
    if blocks:
        return {"command": blocks[0].text.rstrip("\n")}
    if argument:
        return {"command": argument}
    raise FormatError("`ACTION: bash` needs the command in a fenced block after it.")


def _read_file(argument: str, blocks: list[Block], rest: str) -> dict:
    path = _require_path(argument, "read_file")
    arguments: dict = {}
    ranged = LINE_RANGE.match(path)
    if ranged:
        path = ranged.group(1)
        arguments["start_line"] = int(ranged.group(2))
        if ranged.group(3):
            arguments["end_line"] = int(ranged.group(3))
    return {"path": path, **arguments}


def _write_file(argument: str, blocks: list[Block], rest: str) -> dict:
    path = _require_path(argument, "write_file")
    if not blocks:
        raise FormatError("`ACTION: write_file` needs the file's content in a fenced block after it.")
    return {"path": path, "content": blocks[0].text}


def _edit_file(argument: str, blocks: list[Block], rest: str) -> dict:
    path = _require_path(argument, "edit_file")
    labelled = {block.label: block.text for block in blocks if block.label in ("old", "new")}
    if "old" in labelled and "new" in labelled:
        old, new = labelled["old"], labelled["new"]
    elif len(blocks) == 2:
        old, new = blocks[0].text, blocks[1].text
    else:
        raise FormatError("`ACTION: edit_file` needs two fenced blocks: ```old (the exact text) and ```new.")
    return {"path": path, "old": _strip_final_newline(old), "new": _strip_final_newline(new)}


def _strip_final_newline(text: str) -> str:
    # the newline before a closing fence belongs to the fence, not to the text
    return text[:-1] if text.endswith("\n") else text


def _finish(argument: str, blocks: list[Block], rest: str) -> dict:
    summary = (argument + "\n" + rest).strip()
    return {"summary": summary or "Done."}


_PARSERS = {
    "bash": _bash,
    "read_file": _read_file,
    "write_file": _write_file,
    "edit_file": _edit_file,
    "finish": _finish,
}
