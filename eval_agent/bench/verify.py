"""Verification: once the agent is done, and never before (tests can hold the answers), the
task's tests are copied into the container, run in a fresh process, and judged.

Harbor: the reward is what tests/test.sh wrote to /logs/verifier/reward.txt (or reward.json);
a missing reward is a failure. Terminal-Bench 1.x: run-tests.sh's exit code (0 passes).
The reward folder is emptied first, so nothing the agent left there counts."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass

from docker.errors import APIError, DockerException

from ..errors import EnvironmentProblem
from .container_files import copy_by_archive, copy_error, exec_root, install_script
from .tasks import TESTS_DIR, Task

VERIFIER_DIR = "/logs/verifier"
OUTPUT_FILE = f"{VERIFIER_DIR}/test-output.txt"
EXIT_FILE = f"{VERIFIER_DIR}/.test-exit-code"
REPORT_TRIES = 3
OUTPUT_KEPT = 20_000  # characters of the tests' output kept in the record (the tail)


@dataclass
class VerifyResult:
    command: str
    passed: bool
    reward: float | None
    output: str
    exit_code: int | None
    seconds: float
    error: str | None = None  # the verifier itself could not run or gave no reward


def verify(task: Task, sandbox) -> VerifyResult:
    """Copies the tests in, runs them (within the task's verifier timeout) and reads the result:
    one exec in all (two calls to the engine), since a parallel bench waits on each."""
    started = time.monotonic()
    timeout = max(1, int(task.verifier_timeout))
    try:
        install = install_script(TESTS_DIR, task.test_files, also_empty=VERIFIER_DIR)
        if install is None:  # too large to travel in the exec's arguments
            copy_by_archive(sandbox.name, TESTS_DIR, task.test_files, also_empty=VERIFIER_DIR)
            install = ("", [])
        report = exec_root(sandbox.name, install[0] + _test_script(task, timeout) + REPORT, workdir=sandbox.workdir,
                           environment=task.test_env, args=install[1])
        for _ in range(REPORT_TRIES):  # the engine lost the exec's output: the files still hold it
            if "output" in _fields(report) or copy_error(report) is not None:
                break
            report = exec_root(sandbox.name, REPORT, workdir=sandbox.workdir)
    except (APIError, DockerException) as exc:
        return VerifyResult(task.test_command, False, None, "", None, time.monotonic() - started,
                            error=f"the verifier could not run: {exc}")
    if (problem := copy_error(report)) is not None:
        raise EnvironmentProblem(f"could not copy the tests into {TESTS_DIR}: {problem}")
    return _judge(task, _fields(report), timeout, time.monotonic() - started)


def _test_script(task: Task, timeout: int) -> str:
    # the tests' output goes to a file: a server the tests leave behind must not hold the stream open
    return f"timeout -k 10 {timeout} {task.test_command} > {OUTPUT_FILE} 2>&1; echo $? > {EXIT_FILE}; "


# what the tests left, read from files: run again as it is when the engine loses an exec's output
REPORT = (
    f"echo \"exit=$(cat {EXIT_FILE} 2>/dev/null)\"; "
    f"for name in reward.txt reward.json; do [ -f {VERIFIER_DIR}/$name ] && "
    f"echo \"$name=$(base64 -w0 {VERIFIER_DIR}/$name)\"; done; "
    f"echo \"output=$(tail -c {OUTPUT_KEPT} {OUTPUT_FILE} | base64 -w0)\""
)


def _judge(task: Task, fields: dict[str, str], timeout: int, seconds: float) -> VerifyResult:
    output, exit_code = fields.get("output", ""), _integer(fields.get("exit"))
    if exit_code == 124:
        output += f"\n[the tests ran past the verifier timeout of {timeout} s and were stopped]"
    reward, reward_error = _reward(fields)
    if reward is None and (task.reward_file_required or reward_error):
        return VerifyResult(task.test_command, False, None, output, exit_code, seconds,
                            error=reward_error or f"the tests wrote no reward to {VERIFIER_DIR}/reward.txt")
    if reward is None:  # Terminal-Bench: the exit code decides
        reward = 1.0 if exit_code == 0 else 0.0
    return VerifyResult(task.test_command, reward >= 1.0, reward, output, exit_code, seconds)


def _fields(report: str) -> dict[str, str]:
    """name=value lines; values other than the exit code are base64."""
    fields = {}
    for line in report.splitlines():
        name, _, value = line.partition("=")
        if name == "exit":
            fields[name] = value.strip()
        elif name in ("reward.txt", "reward.json", "output"):
            fields[name] = base64.b64decode(value.strip() or b"").decode("utf-8", errors="replace")
    return fields


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _reward(fields: dict[str, str]) -> tuple[float | None, str | None]:
    """reward.txt (a number), else reward.json ({"reward": number}); (None, why) when unusable."""
    if "reward.txt" in fields:
        try:
            return float(fields["reward.txt"].strip()), None
        except ValueError:
            return None, f"reward.txt does not hold a number: {fields['reward.txt'].strip()[:80]!r}"
    if "reward.json" in fields:
        try:
            return float(json.loads(fields["reward.json"])["reward"]), None
        except (ValueError, KeyError, TypeError):
            return None, f"reward.json has no numeric reward: {fields['reward.json'].strip()[:80]!r}"
    return None, None
