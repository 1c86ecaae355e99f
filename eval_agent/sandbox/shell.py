"""One long-lived bash per session: state (cwd, variables, an activated venv) persists between
commands, and a command costs one write and one read on an open stream instead of a new process.

Each command is sent as a here-document with a random delimiter, evaluated in the shell itself
with stdin from /dev/null (so a command waiting on input gets EOF instead of hanging), and
followed by a marker line carrying a nonce and the exit code. A timeout or an interrupt signals
the shell's descendants that do not ignore SIGINT: those are the foreground command's processes,
since bash starts background jobs (`server &`) with SIGINT ignored, so servers survive."""

from __future__ import annotations

import re
import secrets
import time
from typing import Callable, Protocol

from .base import DEFAULT_COMMAND_TIMEOUT, CommandResult
from .output import FULL_OUTPUT_CAP, CappedBuffer

GRACE_AFTER_INT = 2.0  # seconds between SIGINT and SIGKILL of a timed-out command
GRACE_AFTER_KILL = 3.0  # then the shell itself is replaced

# Signals the descendants of a shell that do not ignore SIGINT. POSIX sh and /proc only, so it
# runs in any image (the bench uses task images that may lack procps or python).
SIGNAL_FOREGROUND_SCRIPT = r"""
sig=$1; root=$2; table=""
for d in /proc/[0-9]*; do
  pid=${d#/proc/}; ppid=""; ign=0
  while read -r key value rest; do
    case $key in PPid:) ppid=$value ;; SigIgn:) ign=$value ;; esac
  done 2>/dev/null < "$d/status" || continue
  table="$table $pid:$ppid:$ign"
done
tree=" $root "; grew=1
while [ $grew = 1 ]; do
  grew=0
  for row in $table; do
    pid=${row%%:*}; rest=${row#*:}; ppid=${rest%%:*}
    case "$tree" in *" $ppid "*) case "$tree" in *" $pid "*) ;; *) tree="$tree$pid "; grew=1 ;; esac ;; esac
  done
done
for row in $table; do
  pid=${row%%:*}; ign=${row##*:}
  [ "$pid" = "$root" ] && continue
  case "$tree" in *" $pid "*) [ $(( 0x$ign & 2 )) = 0 ] && kill -s "$sig" "$pid" 2>/dev/null ;; esac
done
exit 0
"""

SHELL_SETUP = (
    "export PS1= PS2= HISTFILE=/dev/null\n"
    'mkdir -p "${HOME:-/tmp}" 2>/dev/null\n'
    "stty -echo 2>/dev/null\n"
)


class Transport(Protocol):
    """A byte stream to a bash reading commands on stdin (stdout and stderr merged)."""

    def send(self, data: bytes) -> None: ...

    def recv(self, timeout: float) -> bytes | None:
        """Bytes that arrived, b"" once the shell has gone, None when nothing came in time."""
        ...

    def signal_foreground(self, signal_name: str, shell_pid: int) -> None:
        """Run SIGNAL_FOREGROUND_SCRIPT next to the shell (a separate process)."""
        ...

    def exit_code(self) -> int | None:
        """The shell's exit code once it has exited, None while it runs. Needed because a
        background job that inherited the shell's stdout keeps the stream open after it exits."""
        ...

    def close(self) -> None: ...


LIVENESS_CHECK_INTERVAL = 1.0  # seconds of silence between checks that the shell still runs


class ShellDied(RuntimeError):
    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        self.exit_code = exit_code


class CommandInterrupted(KeyboardInterrupt):
    """Ctrl-C during a command: the command was stopped, the shell is usable, `result` holds
    what it printed so far."""

    def __init__(self, result: CommandResult):
        super().__init__("command interrupted")
        self.result = result


class PersistentShell:
    def __init__(self, open_transport: Callable[[], Transport], workdir: str):
        self._open_transport = open_transport
        self.workdir = workdir
        self._transport: Transport | None = None
        self._pid = 0
        self._pending = b""  # bytes read past the last marker
        self._interrupt_requested = False

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        self._transport = self._open_transport()
        nonce = secrets.token_hex(8)
        self._transport.send(
            (SHELL_SETUP + f"cd {_quote(self.workdir)} && printf '__EA_PID_{nonce}_%s__\\n' $$\n").encode()
        )
        match, _ = self._read_until(re.compile(rb"__EA_PID_" + nonce.encode() + rb"_(\d+)__\n"), time.monotonic() + 30)
        if match is None:
            raise ShellDied("the sandbox shell did not start")
        self._pid = int(match.group(1))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    @property
    def pid(self) -> int:
        return self._pid

    # -- commands ------------------------------------------------------------------
    def run(self, command: str, timeout: float | None = None, output_cap: int = FULL_OUTPUT_CAP) -> CommandResult:
        if self._transport is None:
            self.start()
        timeout = DEFAULT_COMMAND_TIMEOUT if timeout is None else timeout
        self._interrupt_requested = False
        restarted = False
        try:
            self._discard_stray_output()
        except ShellDied:  # it died between commands (a background `kill $$`): start afresh
            self._restart()
            restarted = True
        nonce = secrets.token_hex(8)
        body = command if command.endswith("\n") else command + "\n"
        script = (
            f"IFS= read -r -d '' __ea_cmd <<'__EA_EOF_{nonce}'\n{body}__EA_EOF_{nonce}\n"
            f'{{ eval "$__ea_cmd"; }} </dev/null 2>&1; printf "\\n__EA_DONE_{nonce}_%s__\\n" "$?"\n'
        )
        marker = re.compile(rb"\n__EA_DONE_" + nonce.encode() + rb"_(\d+)__\n")
        started = time.monotonic()
        buffer = CappedBuffer(output_cap)
        timed_out = interrupted = False
        shell_exit_code = 1
        try:
            self._transport.send(script.encode())
            match, leftover = self._read_until(marker, started + timeout, buffer)
            if match is None:
                timed_out = True
                match, leftover = self._stop_foreground(marker, buffer)
        except KeyboardInterrupt:
            interrupted = True
            match, leftover = self._stop_foreground(marker, buffer)
        except ShellDied as died:
            match, leftover = None, b""
            shell_exit_code = died.exit_code
        if match is None:  # the shell is gone or stuck in a builtin: replace it
            buffer.add(self._pending)
            restarted = True
            self._restart()
            exit_code = 137 if (timed_out or interrupted) else shell_exit_code
        else:
            exit_code = int(match.group(1))
        self._pending = leftover
        interrupted = interrupted or self._interrupt_requested
        result = CommandResult(
            command=command,
            output=buffer.text(),
            exit_code=exit_code,
            duration=time.monotonic() - started,
            timed_out=timed_out,
            interrupted=interrupted,
            output_truncated=buffer.dropped > 0,
            shell_restarted=restarted,
        )
        if interrupted and not self._interrupt_requested:
            raise CommandInterrupted(result)
        return result

    def interrupt(self) -> None:
        """Stop the running command from another thread; run() then returns interrupted."""
        if self._transport is not None and self._pid:
            self._interrupt_requested = True
            self._transport.signal_foreground("INT", self._pid)

    # -- internals -----------------------------------------------------------------
    def _stop_foreground(self, marker: re.Pattern, buffer: CappedBuffer):
        for signal_name, grace in (("INT", GRACE_AFTER_INT), ("KILL", GRACE_AFTER_KILL)):
            try:
                self._transport.signal_foreground(signal_name, self._pid)
                match, leftover = self._read_until(marker, time.monotonic() + grace, buffer)
            except ShellDied:
                return None, b""
            if match is not None:
                return match, leftover
        return None, b""

    def _restart(self) -> None:
        self.close()
        self._pending = b""
        self.start()

    def _wait_for_exit_code(self, patience: float = 2.0) -> int | None:
        # the stream closes a moment before the process is reaped
        deadline = time.monotonic() + patience
        while (code := self._transport.exit_code()) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return code

    def _discard_stray_output(self) -> None:
        """Drop what background jobs printed between commands so it is not pinned on the next."""
        self._pending = b""
        while True:
            data = self._transport.recv(0)
            if not data:
                if data == b"":
                    raise ShellDied("the sandbox shell has exited")
                return

    def _read_until(self, marker: re.Pattern, deadline: float, buffer: CappedBuffer | None = None):
        """Read until `marker`; feed output before it to `buffer`. Returns (match, leftover).

        The unflushed tail (which might hold the start of the marker) lives in self._pending,
        so a read cut short by Ctrl-C loses nothing: the next call goes on from it."""
        keep = 64  # longer than any marker
        while True:
            match = marker.search(self._pending)
            if match:
                if buffer is not None:
                    buffer.add(self._pending[: match.start()])
                leftover, self._pending = self._pending[match.end():], b""
                return match, leftover
            if len(self._pending) > keep:
                if buffer is not None:
                    buffer.add(self._pending[:-keep])
                self._pending = self._pending[-keep:]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, b""
            data = self._transport.recv(min(remaining, LIVENESS_CHECK_INTERVAL))
            if data is None and remaining > LIVENESS_CHECK_INTERVAL:
                code = self._transport.exit_code()
                data = b"" if code is not None else None
            if data == b"":
                if buffer is not None:
                    buffer.add(self._pending)
                self._pending = b""
                raise ShellDied("the sandbox shell has exited", self._wait_for_exit_code())
            if data:
                self._pending += data


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"
