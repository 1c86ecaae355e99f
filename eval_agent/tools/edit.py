"""edit_file: replace one exact, unique piece of text. A miss shows the closest region ("did you
mean"), several matches show where each is, so the model's next try can succeed."""

from __future__ import annotations

import difflib
import heapq
import re
from collections import Counter
from typing import Any, Iterable

from ..models.base import ToolSchema
from ..sandbox.base import Sandbox
from .base import Observation, function_schema
from .files import (MAX_FILE_BYTES, PATH_PROPERTY, PathRefused, looks_binary, numbered, probe,
                    split_lines, too_big, workspace_path)

CONTEXT_LINES = 3  # lines shown around an edit
MAX_SNIPPET_LINES = 40
MAX_LISTED_MATCHES = 20
MIN_SIMILARITY = 0.3  # below this, a "closest region" would mislead more than help
FULL_SCAN_BUDGET = 200_000  # windows x characters compared with difflib before pre-filtering
CANDIDATE_WINDOWS = 50
TOKEN = re.compile(r"\w+|\S")


class EditFileTool:
    name = "edit_file"

    @property
    def schema(self) -> ToolSchema:
        return function_schema(
            self.name,
            "Replace one exact piece of text in a file: `old` must occur exactly once (whitespace "
            "and indentation included, without read_file's line-number prefix). Include enough "
            "surrounding lines to make it unique. Returns the edited region with line numbers. On "
            "no match, shows the closest lines; on several, their line numbers. Nothing is changed "
            "unless the match is unique. `new` may be empty to delete `old`. "
            f"Files over {MAX_FILE_BYTES // 2**20} MiB: use bash.",
            {"path": PATH_PROPERTY,
             "old": {"type": "string", "description": "The exact text to replace (not empty)."},
             "new": {"type": "string", "description": "The text to put in its place."}},
            ["path", "old", "new"],
        )

    def run(self, arguments: dict[str, Any], sandbox: Sandbox) -> Observation:
        path: str = arguments["path"]
        old, new = _clean(arguments["old"]), _clean(arguments["new"])
        if not old:
            return Observation("`old` is empty: give the exact text to replace. To create a file or "
                               "replace it whole, use write_file.", ok=False)
        if old == new:
            return Observation("`old` and `new` are the same: nothing to change.", ok=False)
        try:
            resolved = workspace_path(sandbox, path)
            kind, size = probe(sandbox, resolved)
            if kind == "missing":
                return Observation(f"{path}: no such file in the workspace. Use write_file to create it.",
                                   ok=False, details={"error": "missing"})
            if kind != "file":
                return Observation(f"{path} is not a regular file ({kind}); it cannot be edited.", ok=False)
            if size > MAX_FILE_BYTES:
                return too_big(path, size)
            data = sandbox.read_file(resolved)
            if looks_binary(data):
                return Observation(f"{path} is a binary file; edit_file only edits text.", ok=False)
            # surrogateescape: bytes that are not UTF-8 survive the round trip unchanged
            text = data.decode("utf-8", errors="surrogateescape")
            starts = _find_all(text, old)
            if not starts and "\r\n" in text and "\r" not in old:
                # read_file cannot show \r: accept the model's \n for a CRLF file
                old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
                starts = _find_all(text, old)
            if not starts:
                return _did_you_mean(path, text, old)
            if len(starts) > 1:
                return _several(path, text, starts)
            at = starts[0]
            edited = text[:at] + new + text[at + len(old):]
            sandbox.write_file(resolved, edited.encode("utf-8", errors="surrogateescape"))
        except PathRefused as refused:
            return refused.observation
        except (OSError, ValueError) as exc:  # ValueError: corrupt base64 from the sandbox
            return Observation(f"Could not edit {path}: {exc}", ok=False)
        return _edited(path, edited, at, old, new, resolved)


def _clean(text: str) -> str:
    """Lone surrogates (possible in JSON) cannot be written: make them U+FFFD."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _find_all(text: str, old: str) -> list[int]:
    """Every start of `old`, overlapping ones included ("aa" in "aaa" is ambiguous)."""
    starts, at = [], text.find(old)
    while at != -1:
        starts.append(at)
        at = text.find(old, at + 1)
    return starts


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _count_lines(text: str) -> int:
    return len(split_lines(text)) if text else 0


def _edited(path: str, edited: str, at: int, old: str, new: str, resolved: str) -> Observation:
    first = _line_of(edited, at)
    last = _line_of(edited, at + len(new) - 1) if new else first
    lines = split_lines(edited) or [""]
    low, high = max(1, first - CONTEXT_LINES), min(len(lines), last + CONTEXT_LINES)
    old_n, new_n = _count_lines(old), _count_lines(new)
    what = (f"deleted {old_n} line{'s' * (old_n != 1)} at line {first}" if not new else
            f"replaced {old_n} line{'s' * (old_n != 1)} at line {first} with {new_n}")
    return Observation(
        f"Edited {path}: {what}. Lines {low}-{high} now read:\n{_snippet(lines, low, high)}",
        details={"path": resolved, "first_line": first, "last_line": last},
    )


def _snippet(lines: list[str], low: int, high: int) -> str:
    """Numbered lines low..high; a long region keeps its head and tail."""
    if high - low + 1 <= MAX_SNIPPET_LINES:
        return numbered(lines[low - 1:high], low)
    half = MAX_SNIPPET_LINES // 2
    return (numbered(lines[low - 1:low - 1 + half], low) + f"\n[... {high - low + 1 - 2 * half} lines ...]\n"
            + numbered(lines[high - half:high], high - half + 1))


def _several(path: str, text: str, starts: list[int]) -> Observation:
    numbers = [_line_of(text, at) for at in starts]
    listed = ", ".join(str(n) for n in numbers[:MAX_LISTED_MATCHES])
    if len(numbers) > MAX_LISTED_MATCHES:
        listed += f" and {len(numbers) - MAX_LISTED_MATCHES} more"
    return Observation(
        f"`old` occurs {len(starts)} times in {path}, starting at lines {listed}. Nothing was changed. "
        "Include more surrounding lines in `old` so that it matches exactly one place.",
        ok=False, details={"error": "several_matches", "lines": numbers},
    )


def _did_you_mean(path: str, text: str, old: str) -> Observation:
    lines = split_lines(text)
    first, size, ratio, whitespace_only = _closest(lines, split_lines(old) or [""])
    head = f"No exact match for `old` in {path}; nothing was changed."
    if ratio < MIN_SIMILARITY:
        return Observation(f"{head} Nothing in the file is close to it: read the file with read_file "
                           "and copy the text exactly.", ok=False, details={"error": "no_match"})
    last = first + size - 1
    note = (" They differ only in whitespace (indentation or trailing spaces)." if whitespace_only else "")
    return Observation(
        f"{head} Did you mean lines {first}-{last} (similarity {ratio:.0%})?{note}\n"
        f"{_snippet(lines, first, last)}\n"
        "Copy the text exactly as it is in the file, without the line-number prefix.",
        ok=False, details={"error": "no_match", "closest": [first, last], "similarity": round(ratio, 3)},
    )


def _closest(lines: list[str], wanted: list[str]) -> tuple[int, int, float, bool]:
    """(first line, window size, similarity, differs only in whitespace) of the window of
    len(wanted) lines most like `wanted`."""
    size = min(len(wanted), max(len(lines), 1))
    count = max(len(lines) - size + 1, 1)
    stripped, wanted_stripped = [line.strip() for line in lines], [line.strip() for line in wanted]
    for i in range(count):  # the usual miss: right text, wrong indentation
        if stripped[i:i + size] == wanted_stripped:
            ratio = difflib.SequenceMatcher(None, "\n".join(lines[i:i + size]), "\n".join(wanted)).ratio()
            return i + 1, size, ratio, True
    target = "\n".join(wanted)
    candidates: Iterable[int] = range(count)
    if count * len(target) > FULL_SCAN_BUDGET:  # difflib on every window would take minutes
        candidates = _likely_windows(lines, wanted, size, count)
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(target)  # seq2 is the indexed side: index `old` once
    best, best_ratio = 0, -1.0
    for i in candidates:
        matcher.set_seq1("\n".join(lines[i:i + size]))
        # cheap upper bounds first: most windows are discarded without the full comparison
        if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio:
            best, best_ratio = i, ratio
    return best + 1, size, max(best_ratio, 0.0), False


def _likely_windows(lines: list[str], wanted: list[str], size: int, count: int) -> list[int]:
    """The windows sharing the most tokens with `wanted`, by one sliding pass over the file."""
    tokens = [TOKEN.findall(line) for line in lines]
    want = Counter(TOKEN.findall("\n".join(wanted)))
    have: Counter[str] = Counter()
    shared = 0  # sum over tokens of min(have, want), kept up to date as the window slides
    scores = []
    for i in range(count + size - 1):
        for token in tokens[i] if i < len(lines) else ():
            shared += have[token] < want[token]
            have[token] += 1
        if i >= size:
            for token in tokens[i - size]:
                have[token] -= 1
                shared -= have[token] < want[token]
        if i >= size - 1:
            scores.append((shared, -(i - size + 1)))
    return [-start for _, start in heapq.nlargest(CANDIDATE_WINDOWS, scores)]
