"""Verification: once the agent is done, and never before (tests can hold the answers), the
task's tests are copied into the container, run in a fresh process, and judged.

Harbor: the reward is what tests/test.sh wrote to /logs/verifier/reward.txt (or reward.json);
a missing reward is a failure. Terminal-Bench 1.x: run-tests.sh's exit code (0 passes).
The reward folder is emptied first, so nothing the agent left there counts."""

from __future__ import annotations

import base64
import io
import json
import shlex
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from docker.errors import APIError, DockerException

from ..errors import EnvironmentProblem
from ..sandbox.engine import docker_client
from .tasks import TESTS_DIR, Task

VERIFIER_DIR = "/logs/verifier"
OUTPUT_FILE = f"{VERIFIER_DIR}/test-output.txt"
OUTPUT_KEPT = 20_000  # characters of the tests' output kept in the record (the tail)
ROOT = "0:0"  # the verifier runs as root, as in Harbor and Terminal-Bench (capabilities still dropped)


@dataclass
class VerifyResult:
    command: str
    passed: bool
    reward: float | None
    output: str
    exit_code: int | None
    seconds: float
    error: str | None = None  # the verifier itself could not run or gave no reward


def container_of(sandbox):
    """The Docker container behind a started DockerSandbox."""
    try:
        return docker_client().containers.get(sandbox.name)
    except (APIError, DockerException) as exc:
        raise EnvironmentProblem(f"the task's container {sandbox.name} is gone: {exc}") from None


def exec_root(container, command: str, workdir: str = "/", environment: dict[str, str] | None = None) -> tuple[int, str]:
    code, output = container.exec_run(["bash", "-c", command], user=ROOT, workdir=workdir,
                                      environment=environment or {}, demux=False)
    return code, (output or b"").decode("utf-8", errors="replace")


def copy_into(container, folder: str, files: dict[str, Path], also_empty: str | None = None) -> None:
    """Puts `files` ({relative path: host file}) under `folder` in the container, owned by root,
    keeping the executable bit; `folder` (and `also_empty`, left writable by all) is emptied first."""
    prepare = f"rm -rf {shlex.quote(folder)} && mkdir -p {shlex.quote(folder)}"
    if also_empty:
        prepare += f" && rm -rf {shlex.quote(also_empty)} && mkdir -p {shlex.quote(also_empty)} && chmod 777 {shlex.quote(also_empty)}"
    code, output = exec_root(container, prepare)
    if code != 0:
        raise EnvironmentProblem(f"could not prepare {folder} in the container: {output.strip()[:300]}")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, path in sorted(files.items()):
            data = path.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), int(time.time())
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            tar.addfile(info, io.BytesIO(data))
    try:
        container.put_archive(folder, buffer.getvalue())
    except (APIError, DockerException) as exc:
        raise EnvironmentProblem(f"could not copy files into {folder}: {exc}") from None


def verify(task: Task, sandbox) -> VerifyResult:
    """Copies the tests in, runs them (within the task's verifier timeout) and reads the result:
    three calls to the engine in all, since a parallel bench waits on each."""
    started = time.monotonic()
    container = container_of(sandbox)
    timeout = max(1, int(task.verifier_timeout))
    try:
        copy_into(container, TESTS_DIR, task.test_files, also_empty=VERIFIER_DIR)
        # the tests' output goes to a file: a server the tests leave behind must not hold the stream open
        _, report = exec_root(container, (
            f"timeout -k 10 {timeout} {task.test_command} > {OUTPUT_FILE} 2>&1; echo \"exit=$?\"; "
            f"for name in reward.txt reward.json; do [ -f {VERIFIER_DIR}/$name ] && "
            f"echo \"$name=$(base64 -w0 {VERIFIER_DIR}/$name)\"; done; "
            f"echo \"output=$(tail -c {OUTPUT_KEPT} {OUTPUT_FILE} | base64 -w0)\""
        ), workdir=sandbox.workdir, environment=task.test_env)
    except (APIError, DockerException) as exc:
        return VerifyResult(task.test_command, False, None, "", None, time.monotonic() - started,
                            error=f"the verifier could not run: {exc}")
    fields = _fields(report)
    output, exit_code = fields.get("output", ""), _integer(fields.get("exit"))
    seconds = time.monotonic() - started
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
