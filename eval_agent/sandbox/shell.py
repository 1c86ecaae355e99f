"""One long-lived bash per session: state (cwd, variables, an activated venv) persists between
commands, and a command costs one write and one read on an open stream instead of a new process.

Each command is sent as a here-document with a random delimiter, sourced by the shell itself
with stdin from /dev/null (so a command waiting on input gets EOF instead of hanging), and
followed by a marker line carrying a nonce and the exit code. A timeout or an interrupt stops the
command's processes and makes the shell drop the rest of the command line (SIGNAL_COMMAND_SCRIPT);
background jobs started earlier survive; a shell that does not come back is replaced."""

from __future__ import annotations

import re
import secrets
import shlex
import time
from typing import Callable, Protocol

from .base import DEFAULT_COMMAND_TIMEOUT, CommandResult
from .output import FULL_OUTPUT_CAP, CappedBuffer

GRACE_AFTER_INT = 2.0  # seconds between SIGINT and SIGKILL of a timed-out command
GRACE_AFTER_KILL = 3.0  # then the shell itself is replaced

# Stops a command. POSIX sh and /proc only, so it runs in any image (the bench uses task images
# that may lack procps or python). Arguments: MODE SHELL_PID WINDOW_SECONDS.
#   INT:   SIGINT to the shell's descendants that do not ignore it (bash starts background jobs
#          with SIGINT ignored, so servers survive) and to the shell, which then drops the rest of
#          the command line (it is interactive);
#   KILL:  SIGKILL to descendants started within the window (the command's own processes, also
#          those that ignore SIGINT; older background jobs survive);
#   SHELL: the same, and the shell itself, before it is replaced.
SIGNAL_COMMAND_SCRIPT = r"""
mode=$1; root=$2; window=$3; table=""
ticks=$(getconf CLK_TCK 2>/dev/null) || ticks=100
read -r uptime idle < /proc/uptime
since=$(( (${uptime%.*} - window) * ticks ))
for d in /proc/[0-9]*; do
  pid=${d#/proc/}; ppid=""; ign=0
  while read -r key value rest; do
    case $key in PPid:) ppid=$value ;; SigIgn:) ign=$value ;; esac
  done 2>/dev/null < "$d/status" || continue
  read -r stat 2>/dev/null < "$d/stat" || continue
  set -- ${stat##*) }
  shift 19
  table="$table $pid:$ppid:$ign:$1"
done
# the shell hears SIGINT first, so that when its command dies of it, it drops the rest of the line
[ "$mode" = INT ] && kill -s INT "$root" 2>/dev/null
tree=" $root "; grew=1
while [ $grew = 1 ]; do
  grew=0
  for row in $table; do
    pid=${row%%:*}; rest=${row#*:}; ppid=${rest%%:*}
    case "$tree" in *" $ppid "*) case "$tree" in *" $pid "*) ;; *) tree="$tree$pid "; grew=1 ;; esac ;; esac
  done
done
for row in $table; do
  pid=${row%%:*}; rest=${row#*:}; rest=${rest#*:}; ign=${rest%%:*}; start=${rest#*:}
  case "$tree" in *" $pid "*) ;; *) continue ;; esac
  [ "$pid" = "$root" ] && continue
  case $mode in
    INT) [ $(( 0x$ign & 2 )) = 0 ] && kill -s INT "$pid" 2>/dev/null ;;
    *) [ "$start" -ge "$since" ] && kill -s KILL "$pid" 2>/dev/null ;;
  esac
done
[ "$mode" = SHELL ] && kill -s KILL "$root" 2>/dev/null
exit 0
"""

# The shell is interactive (`bash -i`) only so that SIGINT drops the rest of a command line
# instead of going on with it; no job control, no history, and its own stderr (prompts, notices)
# discarded: a command's stderr is redirected to stdout by the wrapper. No line editing from the
# first byte (--noediting): readline would echo the setup line into a stdio buffer that the next
# command's `echo` flushes into that command's output.
SHELL_COMMAND = ["bash", "--noprofile", "--norc", "--noediting", "-i"]
# In a container, stdout and stderr are two pipes that the engine multiplexes onto one stream in
# no guaranteed order: the shell's start-up chatter on stderr ("no job control", a first prompt)
# could arrive after its first reply and be pinned on a command's output. So its stderr is
# /dev/null from the first byte, not only from SHELL_SETUP on.
QUIET_SHELL = " ".join(SHELL_COMMAND) + " 2>/dev/null"  # a sh command line
SHELL_SETUP = (
    "exec 2>/dev/null; set +m +o emacs +o vi +o history; PS1= PS2= PROMPT_COMMAND=; unset HISTFILE\n"
    'mkdir -p "${HOME:-/tmp}"\n'
)


class Transport(Protocol):
    """A byte stream to a bash reading commands on stdin (stdout and stderr merged)."""

    def send(self, data: bytes) -> None: ...

    def recv(self, timeout: float) -> bytes | None:
        """Bytes that arrived, b"" once the shell has gone, None when nothing came in time."""
        ...

    def signal_command(self, mode: str, shell_pid: int, window: int) -> None:
        """Run SIGNAL_COMMAND_SCRIPT next to the shell (a separate process)."""
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
    def __init__(self, open_transport: Callable[[], Transport], workdir: str, setup: str = ""):
        """`setup`: bash lines the shell runs first, each time it is (re)started."""
        self._open_transport = open_transport
        self._setup = setup
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
            (SHELL_SETUP + self._setup + f"cd {shlex.quote(self.workdir)} && printf '__EA_PID_{nonce}_%s__\\n' $$\n").encode()
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
        # Sourced from a here-document on fd 3, not eval'd: an interactive shell announces
        # background jobs ("[1] 42") only at its top level. The marker is on a line of its own:
        # after SIGINT drops the command's line, it still runs.
        script = (
            f"{{ . /dev/fd/3 </dev/null 2>&1; }} 3<<'__EA_EOF_{nonce}'\n{body}__EA_EOF_{nonce}\n"
            f'printf "\\n__EA_DONE_{nonce}_%s__\\n" "$?"\n'
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
                match, leftover = self._stop_command(marker, buffer, started)
        except KeyboardInterrupt:
            interrupted = True
            match, leftover = self._stop_command(marker, buffer, started)
        except ShellDied as died:
            match, leftover = None, b""
            shell_exit_code = died.exit_code
        if match is None:  # the shell is gone or does not answer: replace it
            buffer.add(self._pending)
            restarted = True
            if timed_out or interrupted:
                self._signal("SHELL", started)
            exit_code = 137 if (timed_out or interrupted) else shell_exit_code
            try:
                self._restart()
            except (ShellDied, OSError, RuntimeError) as exc:  # e.g. no pids left to start a shell
                self.close()  # the next command tries again
                buffer.add(f"\n[the sandbox shell could not be restarted: {exc}]".encode())
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
            self._transport.signal_command("INT", self._pid, 0)

    # -- internals -----------------------------------------------------------------
    def _stop_command(self, marker: re.Pattern, buffer: CappedBuffer, started: float):
        for mode, grace in (("INT", GRACE_AFTER_INT), ("KILL", GRACE_AFTER_KILL)):
            try:
                self._signal(mode, started)
                match, leftover = self._read_until(marker, time.monotonic() + grace, buffer)
            except ShellDied:
                return None, b""
            if match is not None:
                return match, leftover
        return None, b""

    def _signal(self, mode: str, started: float) -> None:
        if self._transport is not None:
            window = int(time.monotonic() - started) + 2  # the command's processes, with slack
            self._transport.signal_command(mode, self._pid, window)

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
