"""read_file and write_file, and what every file tool shares: confinement to the workspace, a
look at what a path is before touching it, binary detection and numbered lines.

File contents go through sandbox.read_file/write_file, so they run as the sandbox's user and a
file written in the workspace belongs to the workspace's owner."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from ..models.base import ToolSchema
from ..sandbox.base import Sandbox
from .base import Observation, function_schema

MAX_LINES = 400  # lines read_file shows per call
MAX_CHARS = 16_000  # characters read_file shows per call
MAX_LINE_CHARS = 2_000  # one minified line must not eat the whole budget
# The sandbox moves a file as base64 through its shell, whose output is capped at 4 MiB: larger
# files would arrive corrupted, so the tools refuse them and point to bash instead.
MAX_FILE_BYTES = 2 * 1024 * 1024
PROBE_TIMEOUT = 30.0
PATH_PROPERTY = {"type": "string", "description": "File path, relative to the workspace or absolute inside it."}


class PathRefused(Exception):
    """A path the file tools will not touch; `observation` says why, for the model."""

    def __init__(self, message: str):
        super().__init__(message)
        self.observation = Observation(message, ok=False, details={"error": "path_refused"})


def workspace_path(sandbox: Sandbox, path: str) -> str:
    """The real path (symlinks followed) of `path`, which must stay inside the workspace."""
    if not path.strip():
        raise PathRefused("The path is empty: give a file path relative to the workspace.")
    if any(c in path for c in "\0\n\r") or path != path.rstrip():
        # resolve_path reads the answer back as one stripped line: such names cannot round-trip
        raise PathRefused(f"Unsupported path {path!r}: it contains a newline, a NUL or trailing "
                          "whitespace. Use bash for such file names.")
    root = sandbox.workdir
    resolved = sandbox.resolve_path(path)
    if not resolved.startswith("/") or "\n" in resolved:
        raise PathRefused(f"Could not resolve the path {path!r}: {resolved[:200]}")
    if _inside(resolved, root) or _inside(resolved, sandbox.resolve_path(root)):
        return resolved
    lexical = posixpath.normpath(posixpath.join(root, path))
    if _inside(lexical, root):
        where = f"{path} leads through a symbolic link to {resolved}, which is"
    else:
        where = f"{path} is" if resolved == path else f"{path} leads to {resolved}, which is"
    raise PathRefused(f"Refused: {where} outside the workspace ({root}). The file tools only work "
                      "inside the workspace.")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def probe(sandbox: Sandbox, resolved: str) -> tuple[str, int]:
    """What is at `resolved`: ("file" | "directory" | "missing" | "other: <kind>", size)."""
    result = sandbox.run(f"stat -c '%F|%s' -- {quote(resolved)} 2>&1; true", PROBE_TIMEOUT)
    text = result.output.strip()
    found = re.fullmatch(r"(.+)\|(\d+)", text)
    if result.timed_out or not found:
        if "No such file" in text or "Not a directory" in text:
            return "missing", 0
        raise PermissionError(text[:300] or "stat gave no answer")
    kind, size = found.group(1), int(found.group(2))
    if kind in ("regular file", "regular empty file"):
        return "file", size
    return ("directory" if kind == "directory" else f"other: {kind}"), size


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or mostly undecodable or control characters, in the first 8 KiB. The bar is
    30%, not a majority: random bytes decode to only about 45% replacement characters."""
    sample = data[:8192]
    if b"\0" in sample:
        return True
    text = sample.decode("utf-8", errors="replace")
    bad = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in "\t\n\r\f\v\b\x1b"))
    return bad > 0.3 * max(len(text), 1)


def split_lines(text: str) -> list[str]:
    """Lines as `cat -n` and `sed` count them: split on \\n only (str.splitlines would also split
    on \\f, \\x1c, \\u2028 ... and disagree with the line numbers the model sees in bash)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def numbered(lines: list[str], first: int) -> str:
    return "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(lines, first))


def quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def too_big(path: str, size: int) -> Observation:
    return Observation(
        f"{path} is {size} bytes, over the {MAX_FILE_BYTES} bytes the file tools handle. Use bash "
        "instead: `sed -n '100,200p' FILE`, `grep -n PATTERN FILE`, `head`/`tail`, or a sed/python "
        "script for edits.", ok=False, details={"error": "too_big", "size": size})


class ReadFileTool:
    name = "read_file"

    @property
    def schema(self) -> ToolSchema:
        return function_schema(
            self.name,
            "Read a text file from the workspace. Returns its lines numbered like `cat -n` (the "
            "number and tab are not part of the file). Shows at most "
            f"{MAX_LINES} lines or {MAX_CHARS} characters per call, and says how to read on; use "
            "start_line/end_line (1-based, inclusive) for a range. Binary files are reported by "
            "size, not shown; for a directory, its entries are listed. "
            f"Files over {MAX_FILE_BYTES // 2**20} MiB: use bash.",
            {"path": PATH_PROPERTY,
             "start_line": {"type": "integer", "minimum": 1, "description": "First line to show (default 1)."},
             "end_line": {"type": "integer", "minimum": 1, "description": "Last line to show (default: as many as fit)."}},
            ["path"],
        )

    def run(self, arguments: dict[str, Any], sandbox: Sandbox) -> Observation:
        path: str = arguments["path"]
        start: int = arguments.get("start_line", 1)
        end: int | None = arguments.get("end_line")
        if end is not None and end < start:
            return Observation(f"end_line ({end}) is before start_line ({start}).", ok=False)
        try:
            resolved = workspace_path(sandbox, path)
            kind, size = probe(sandbox, resolved)
            if kind == "missing":
                return Observation(f"{path}: no such file in the workspace.", ok=False,
                                   details={"error": "missing"})
            if kind == "directory":
                return _list_directory(sandbox, path, resolved)
            if kind != "file":
                return Observation(f"{path} is not a regular file ({kind[7:]}); not read.", ok=False)
            if size > MAX_FILE_BYTES:
                return too_big(path, size)
            data = sandbox.read_file(resolved)
        except PathRefused as refused:
            return refused.observation
        except (OSError, ValueError) as exc:  # ValueError: corrupt base64 from the sandbox
            return Observation(f"Could not read {path}: {exc}", ok=False)

        details = {"path": resolved, "size": len(data)}
        if not data:
            return Observation(f"{path} is empty (0 bytes).", details=details)
        if looks_binary(data):
            return Observation(f"{path} is a binary file ({len(data)} bytes); not shown. Inspect it "
                               "with bash (`file`, `xxd FILE | head`).", details={**details, "binary": True})
        lines = split_lines(data.decode("utf-8", errors="replace"))
        total = len(lines)
        if start > total:
            return Observation(f"{path} has only {total} line{'s' * (total != 1)}; start_line={start} "
                               "is past the end.", ok=False, details=details)
        last_wanted = min(end or total, total)
        rows: list[str] = []
        chars = 0
        for number in range(start, last_wanted + 1):
            line = lines[number - 1]
            if len(line) > MAX_LINE_CHARS:
                line = f"{line[:MAX_LINE_CHARS]} [... {len(line) - MAX_LINE_CHARS} more characters on this line]"
            row = f"{number:>6}\t{line}"
            if len(rows) >= MAX_LINES or (rows and chars + len(row) + 1 > MAX_CHARS):
                break
            rows.append(row)
            chars += len(row) + 1
        last = start + len(rows) - 1
        text = "\n".join(rows)
        if start > 1 or last < total:
            text += f"\n[lines {start}-{last} of {total}"
            if last < last_wanted:
                text += f"; the rest was cut to keep this short: call read_file with start_line={last + 1} to read on"
            elif last < total:
                text += f"; read on with start_line={last + 1}"
            text += "]"
        return Observation(text, details={**details, "lines": total, "shown": [start, last]})


def _list_directory(sandbox: Sandbox, path: str, resolved: str) -> Observation:
    shown = 40
    result = sandbox.run(f"ls -la -- {quote(resolved)} 2>&1 | head -n {shown + 1}", PROBE_TIMEOUT)
    rows = result.output.rstrip("\n").split("\n")
    listing = "\n".join(rows[:shown]) + ("\n[... more entries; use bash `ls` or `find`]" if len(rows) > shown else "")
    return Observation(f"{path} is a directory, not a file. Its entries (ls -la):\n{listing}", ok=False,
                       details={"error": "directory"})


class WriteFileTool:
    name = "write_file"

    @property
    def schema(self) -> ToolSchema:
        return function_schema(
            self.name,
            "Write `content` to a file in the workspace, replacing it whole if it exists; missing "
            "parent folders are created. Returns whether the file was created or overwritten, and "
            "its size in bytes and lines. For a small change to an existing file, edit_file is safer.",
            {"path": PATH_PROPERTY, "content": {"type": "string", "description": "The complete new file content."}},
            ["path", "content"],
        )

    def run(self, arguments: dict[str, Any], sandbox: Sandbox) -> Observation:
        path: str = arguments["path"]
        content: str = arguments["content"]
        data = content.encode("utf-8", errors="replace")  # lone surrogates from JSON become "?"
        try:
            resolved = workspace_path(sandbox, path)
            kind, old_size = probe(sandbox, resolved)
            if kind == "directory":
                return Observation(f"{path} is a directory; give a file path.", ok=False)
            if kind not in ("file", "missing"):
                return Observation(f"{path} is not a regular file ({kind[7:]}); not written.", ok=False)
            sandbox.write_file(resolved, data)
        except PathRefused as refused:
            return refused.observation
        except OSError as exc:
            return Observation(f"Could not write {path}: {exc}", ok=False)
        lines = len(split_lines(content)) if content else 0
        size = f"{len(data)} bytes, {lines} line{'s' * (lines != 1)}"
        if kind == "missing":
            text = f"Created {path} ({size})."
        else:
            text = f"Overwrote {path} ({size}; it had {old_size} bytes)."
        return Observation(text, details={"path": resolved, "created": kind == "missing", "bytes": len(data)})
