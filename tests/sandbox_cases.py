"""Shell behaviours every shell-driven sandbox must share, written once and run against the Docker
sandbox (tests/test_sandbox_docker.py) and the local one (tests/test_sandbox_local.py).

Each case takes a started sandbox and asserts what a user (or the agent loop) would notice. Cases
leave the shell where they found it: in the sandbox's workdir, no venv active."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from eval_agent.sandbox.output import cut_for_model
from eval_agent.sandbox.shell import CommandInterrupted


def reset(sb) -> None:
    """Back to the workdir with no venv active, whatever the previous test did."""
    result = sb.run(f"cd '{sb.workdir}' && {{ type deactivate >/dev/null 2>&1 && deactivate; true; }}", timeout=10)
    assert result.exit_code == 0, result


def wait_until(sb, command: str, seconds: float = 10.0):
    """Run `command` until it exits 0 (a server coming up); return the last result."""
    deadline = time.monotonic() + seconds
    while True:
        result = sb.run(command, timeout=5)
        if result.exit_code == 0 or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def http_get(url: str, seconds: float = 10.0) -> tuple[int, bytes]:
    """GET from the test process, retrying while the server starts."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                return response.status, response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# -- state --------------------------------------------------------------------------------------
def case_state_persists(sb) -> None:
    sb.run("rm -rf state_dir && mkdir -p state_dir/inner", timeout=10)
    assert sb.run("cd state_dir/inner", timeout=10).exit_code == 0
    assert sb.run("pwd", timeout=10).output.strip() == f"{sb.workdir.rstrip('/')}/state_dir/inner"
    assert sb.run("export EA_CASE_VAR='hello world'; ea_fn() { echo fn:$1; }", timeout=10).exit_code == 0
    assert sb.run('echo "$EA_CASE_VAR"', timeout=10).output == "hello world\n"
    assert sb.run("ea_fn x", timeout=10).output == "fn:x\n"  # functions persist too
    sb.run(f"cd '{sb.workdir}' && rm -rf state_dir && unset EA_CASE_VAR && unset -f ea_fn", timeout=10)


def case_venv_activation_persists(sb) -> None:
    created = sb.run("rm -rf v && python3 -m venv v && . v/bin/activate", timeout=120)
    assert created.exit_code == 0, created.output
    which = sb.run("which python", timeout=10)
    assert which.output.strip() == f"{sb.workdir.rstrip('/')}/v/bin/python", which
    prefix = sb.run("python -c 'import sys; print(sys.prefix)'", timeout=30)
    assert prefix.output.strip() == f"{sb.workdir.rstrip('/')}/v"
    sb.run("deactivate; rm -rf v", timeout=30)


def case_exit_codes(sb) -> None:
    assert sb.run("true", timeout=10).exit_code == 0
    assert sb.run("false", timeout=10).exit_code == 1
    assert sb.run("(exit 42)", timeout=10).exit_code == 42
    assert sb.run("sh -c 'exit 7'", timeout=10).exit_code == 7
    missing = sb.run("no_such_command_ea", timeout=10)
    assert missing.exit_code == 127 and "not found" in missing.output
    # stdout and stderr arrive merged, in order, exactly as printed
    both = sb.run("echo out; echo err >&2; printf tail", timeout=10)
    assert both.output == "out\nerr\ntail" and both.exit_code == 0


def case_timeout_keeps_shell_and_state(sb) -> None:
    sb.run("mkdir -p timeout_dir && cd timeout_dir && export EA_TIMEOUT_VAR=kept", timeout=10)
    started = time.monotonic()
    result = sb.run("echo started; sleep 30", timeout=1)
    elapsed = time.monotonic() - started
    assert result.timed_out and not result.shell_restarted, result
    assert result.exit_code != 0 and "started" in result.output
    assert elapsed < 5, f"the timed-out command took {elapsed:.1f}s to stop"
    after = sb.run('pwd; echo "$EA_TIMEOUT_VAR"', timeout=10)
    lines = after.output.split()
    assert lines[0].endswith("/timeout_dir") and lines[1] == "kept", after
    sb.run(f"cd '{sb.workdir}' && rmdir timeout_dir; unset EA_TIMEOUT_VAR", timeout=10)


def case_timeout_stops_the_rest_of_the_command(sb) -> None:
    """A timeout ends the whole command, not only the process running at that moment: what
    follows `sleep` in the same command line must not run (as with Ctrl-C in a terminal)."""
    sb.run("rm -f ran_on", timeout=10)
    result = sb.run("sleep 30; echo never; touch ran_on", timeout=1)
    assert result.timed_out, result
    time.sleep(0.5)
    ran_on = sb.run("test -e ran_on && echo yes || echo no", timeout=10).output.strip()
    sb.run("rm -f ran_on", timeout=10)
    assert "never" not in result.output and ran_on == "no", (
        f"the rest of the timed-out command ran after the timeout: output={result.output!r}, "
        f"exit_code={result.exit_code}, file created={ran_on}"
    )


def case_timeout_kills_a_command_that_ignores_sigint(sb) -> None:
    """A foreground program that ignores SIGINT still gets the KILL that follows: it is gone
    after the timeout, and the shell (with its state) is kept rather than replaced."""
    sb.run("mkdir -p ignores_int && cd ignores_int", timeout=10)
    result = sb.run(
        "python3 -c 'import signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(40)' "
        "ea-ignores-int",
        timeout=1,
    )
    assert result.timed_out, result
    left = sb.run("pgrep -f ea-ignores-int || true", timeout=10).output.split()
    cwd = sb.run("pwd", timeout=10).output.strip()
    sb.run("pkill -9 -f ea-ignores-int; cd '%s' && rmdir ignores_int" % sb.workdir, timeout=10)
    assert left == [], f"the timed-out program (ignoring SIGINT) still runs: pids {left}"
    assert not result.shell_restarted and cwd.endswith("/ignores_int"), (
        f"the shell was replaced instead (restarted={result.shell_restarted}, cwd now {cwd})"
    )


def case_timeout_of_a_busy_loop_keeps_the_shell(sb) -> None:
    """A loop inside the shell itself has no process to signal: SIGINT to the (interactive) shell
    drops the rest of the line, and the shell, with its state, stays."""
    old_pid = sb.run("cd /tmp && echo $$", timeout=10).output.strip()
    result = sb.run("while :; do :; done; echo never", timeout=1)
    assert result.timed_out and not result.shell_restarted and "never" not in result.output, result
    after = sb.run("echo $$; pwd", timeout=10)
    assert after.output.split() == [old_pid, "/tmp"], (old_pid, result, after)
    sb.run(f"cd {sb.workdir}", timeout=10)


def case_a_shell_that_ignores_sigint_is_replaced_and_stopped(sb) -> None:
    """A busy loop in a shell that ignores SIGINT: the shell is replaced, and the old one must not
    be left spinning."""
    old_pid = sb.run("echo $$", timeout=10).output.strip()
    result = sb.run("trap '' INT; while :; do :; done", timeout=1)
    assert result.timed_out and result.shell_restarted and result.exit_code == 137, result
    new_pid = sb.run("echo $$", timeout=10).output.strip()
    assert new_pid != old_pid
    time.sleep(0.5)
    state = sb.run(f"s=$(cut -d' ' -f3 /proc/{old_pid}/stat 2>/dev/null); echo ${{s:-gone}}", timeout=10)
    assert state.output.strip() in ("gone", "Z"), (
        f"the replaced shell (pid {old_pid}) still runs, state {state.output.strip()}: it burns a CPU "
        "until the sandbox is closed"
    )


def case_stdin_gets_eof(sb) -> None:
    for command in ("cat", "read x; echo read=$?", "python3 -c 'import sys; print(len(sys.stdin.read()))'"):
        started = time.monotonic()
        result = sb.run(command, timeout=20)
        assert not result.timed_out and time.monotonic() - started < 5, (command, result)
    assert sb.run("read x; echo read=$?", timeout=5).output == "read=1\n"
    assert sb.run("python3 -c 'import sys; print(len(sys.stdin.read()))'", timeout=20).output == "0\n"


def case_background_job_survives(sb, port: int) -> str:
    """Start a server in the background; it returns at once, survives later commands (a
    timed-out one included) and answers from inside. Returns the server's log path."""
    log = f"/tmp/ea_http_{port}.log"
    started = time.monotonic()
    result = sb.run(f"python3 -m http.server {port} > {log} 2>&1 &", timeout=10)
    assert result.exit_code == 0 and time.monotonic() - started < 2, result
    probe = (
        f"python3 -c \"import urllib.request as u; "
        f"print(u.urlopen('http://127.0.0.1:{port}/', timeout=3).status)\""
    )
    assert wait_until(sb, probe).output.strip() == "200"
    assert sb.run("echo later", timeout=10).output == "later\n"
    assert sb.run("sleep 20", timeout=1).timed_out  # the INT sent on timeout spares the server
    assert sb.run(probe, timeout=10).output.strip() == "200"
    return log


def case_exit_restarts_the_shell(sb) -> None:
    codes = []
    for _ in range(20):  # the shell's exit code is read as it exits: must not race
        result = sb.run("exit 3", timeout=10)
        assert result.shell_restarted, result
        codes.append(result.exit_code)
    assert codes == [3] * 20, f"exit codes reported for `exit 3`: {codes}"
    after = sb.run("echo works; pwd", timeout=10)
    assert after.output == f"works\n{sb.workdir}\n", (result, after)
    # a background job still holding the shell's output must not hide the exit
    started = time.monotonic()
    result = sb.run("sleep 20 & exit 4", timeout=15)
    assert result.exit_code == 4 and result.shell_restarted and not result.timed_out, result
    assert time.monotonic() - started < 5
    assert sb.run("echo again", timeout=10).output == "again\n"


def case_shell_killed_between_commands_is_restarted(sb) -> None:
    """The shell dies while idle (the OOM killer, a job that kills it): the next command gets a
    fresh shell instead of an exception, and so does every one after it."""
    assert sb.run("(sleep 0.3; kill -9 $$) >/dev/null 2>&1 &", timeout=10).exit_code == 0
    time.sleep(3)  # a loaded machine may take a while to run the kill
    result = sb.run("echo alive", timeout=10)
    assert result.output == "alive\n" and result.shell_restarted, result
    assert sb.run("echo still", timeout=10).output == "still\n"


def case_files(sb, host_workspace: Path) -> None:
    payload = bytes(range(256)) * 40 + b"\n\xff\xfe not utf-8 \x00"
    sb.write_file("files_case/deep/data.bin", payload)
    assert (host_workspace / "files_case/deep/data.bin").read_bytes() == payload
    assert sb.read_file("files_case/deep/data.bin") == payload
    assert sb.read_file(f"{sb.workdir}/files_case/deep/data.bin") == payload  # absolute path
    sb.write_file("files_case/empty.txt", b"")
    assert sb.read_file("files_case/empty.txt") == b""
    (host_workspace / "files_case/from_host.txt").write_text("host side\n")
    assert sb.run("cat files_case/from_host.txt", timeout=10).output == "host side\n"
    with pytest.raises(FileNotFoundError):
        sb.read_file("files_case/missing.txt")
    with pytest.raises(IsADirectoryError):
        sb.read_file("files_case/deep")
    sb.run("ln -sfn deep files_case/link", timeout=10)
    assert sb.resolve_path("files_case/link/data.bin") == f"{sb.workdir}/files_case/deep/data.bin"
    sb.run("rm -rf files_case", timeout=10)


def case_output_cut_for_model(sb) -> None:
    result = sb.run("seq 1 20000", timeout=30)
    assert result.exit_code == 0 and not result.output_truncated
    shown, removed = cut_for_model(result.output, budget=2000)
    assert removed > 0 and len(shown) < 2200
    assert f"[... {removed} characters cut from the middle of this output ...]" in shown
    lines = shown.splitlines()
    assert lines[0] == "1" and lines[-1] == "20000"


def case_huge_output_is_capped(sb) -> None:
    started = time.monotonic()
    result = sb.run("seq 1 3000000", timeout=120)  # about 20.9 MB
    assert result.exit_code == 0 and result.output_truncated, result.output[:200]
    assert time.monotonic() - started < 30
    assert 3_900_000 < len(result.output) < 4_400_000
    assert result.output.startswith("1\n2\n3\n") and result.output.endswith("2999999\n3000000\n")
    assert "bytes dropped ..." in result.output
    assert sb.run("echo next", timeout=10).output == "next\n"


def case_non_utf8_output(sb) -> None:
    result = sb.run(r"printf 'a\xff\xfeb\n'; printf '\xc3'", timeout=10)
    assert result.exit_code == 0 and result.output == "a\ufffd\ufffdb\n\ufffd"
    noise = sb.run("head -c 200000 /dev/urandom", timeout=30)
    assert noise.exit_code == 0 and not noise.timed_out and len(noise.output) > 100_000
    assert sb.run("echo clean", timeout=10).output == "clean\n"


def case_interrupt_from_another_thread(sb) -> None:
    timer = threading.Timer(0.5, sb.interrupt)
    timer.start()
    started = time.monotonic()
    try:
        result = sb.run("echo before; sleep 60", timeout=30)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5
    assert result.interrupted and not result.timed_out and not result.shell_restarted, result
    assert "before" in result.output and result.exit_code != 0
    assert sb.run("echo after", timeout=10).output == "after\n"


def case_interrupt_stops_the_rest_of_the_command(sb) -> None:
    timer = threading.Timer(0.5, sb.interrupt)
    timer.start()
    try:
        result = sb.run("sleep 60; echo never", timeout=30)
    finally:
        timer.cancel()
    assert result.interrupted, result
    assert "never" not in result.output, (
        f"the rest of the interrupted command ran: output={result.output!r}, exit_code={result.exit_code}"
    )


def case_ctrl_c_raises_command_interrupted(sb) -> None:
    """SIGINT in the process driving the sandbox (the user's Ctrl-C): CommandInterrupted, with
    what the command printed so far; the shell stays usable."""
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(CommandInterrupted) as caught:
        try:
            sb.run("echo before-ctrl-c; sleep 60", timeout=30)
        finally:
            timer.cancel()
    assert time.monotonic() - started < 5
    assert caught.value.result.interrupted
    assert sb.run("echo after", timeout=10).output == "after\n"
    assert "before-ctrl-c" in caught.value.result.output, (
        f"output printed before Ctrl-C was lost: result.output={caught.value.result.output!r}"
    )


# Run on every sandbox kind (the Docker and the local test modules): `sh` is a shared sandbox,
# `fresh` one of the test's own.
SHARED_SANDBOX_CASES = [
    case_venv_activation_persists,
    case_exit_codes,
    case_timeout_keeps_shell_and_state,
    case_timeout_stops_the_rest_of_the_command,
    case_stdin_gets_eof,
    case_output_cut_for_model,
    case_huge_output_is_capped,
    case_non_utf8_output,
    case_exit_restarts_the_shell,
    case_interrupt_from_another_thread,
    case_interrupt_stops_the_rest_of_the_command,
    case_ctrl_c_raises_command_interrupted,
]
FRESH_SANDBOX_CASES = [
    case_timeout_kills_a_command_that_ignores_sigint,
    case_timeout_of_a_busy_loop_keeps_the_shell,
    case_a_shell_that_ignores_sigint_is_replaced_and_stopped,
    case_shell_killed_between_commands_is_restarted,
]
