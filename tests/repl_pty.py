"""A real `eval-agent` process under a pseudo-terminal (pexpect), read as a person sees it."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pexpect

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>78]|\r")



class ReplUnderPty:
    """`eval-agent` in a pseudo-terminal; `expect` searches the screen text (escape codes removed)
    from where the last match ended."""

    def __init__(self, args: list[str], env: dict, cwd: Path):
        env = {**env, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
        self.child = pexpect.spawn(sys.executable, ["-m", "eval_agent", *args], env=env, cwd=str(cwd),
                                   dimensions=(50, 120), encoding="utf-8", codec_errors="replace")
        self.text, self.position = "", 0
        self.raw = ""  # every byte the terminal received, escape sequences included

    def expect(self, pattern: str, timeout: float = 90) -> re.Match:
        regex, deadline = re.compile(pattern), time.monotonic() + timeout
        while True:
            match = regex.search(self.text, self.position)
            if match:
                self.position = match.end()
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} on the screen; it ends with:\n{self.text[-3000:]}")
            try:
                chunk = self.child.read_nonblocking(65536, timeout=0.2)
                self.raw += chunk
                self.text += ANSI.sub("", chunk)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                if not regex.search(self.text, self.position):
                    raise AssertionError(f"the REPL ended before {pattern!r}:\n{self.text[-3000:]}") from None

    def prompt(self, timeout: float = 90) -> None:
        self.expect(r"todo ›", timeout)

    def send_line(self, line: str) -> None:
        """Types a line and Enter (keys typed before the prompt is back wait in the terminal)."""
        self.child.send(line)
        time.sleep(0.2)
        self.child.send("\r")

    def wait_exit(self, timeout: float = 60) -> int:
        self.expect(r"sandbox removed, record closed", timeout)
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        return self.child.exitstatus
