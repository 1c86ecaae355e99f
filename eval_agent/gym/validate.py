"""Is a task sound? Its tests fail on the untouched environment (the nop agent) and pass once its
reference solution has run (the oracle). Checked directly in a task container, with the bench's
own parts (image, thin files, verifier) but no agent loop and no record: validating thousands of
tasks must neither cost a Session each nor fill the user's trajectories.

`separate` runs the two checks in two containers (for any task folder: tests may leave traces);
the gym's own tasks, whose tests only read, share one container: doing nothing, then the
solution."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from ..bench.container_files import apply_thin
from ..bench.images import task_image
from ..bench.oracle import oracle_actions
from ..bench.tasks import Task
from ..bench.verify import verify
from ..errors import EvalAgentError
from ..sandbox.docker_sandbox import DockerSandbox, DockerSandboxConfig
from ..sandbox.engine import docker_client

OUTPUT_SHOWN = 400  # characters of a failing check's output in the report


@dataclass
class Verdict:
    task: str
    ok: bool
    problem: str = ""  # why not: "the tests pass with nothing done", "the solution fails: ..."
    seconds: float = 0.0


class Validator:
    def __init__(self, base_image: str | None = None, separate: bool = True):
        self.base_image, self.separate = base_image, separate
        self._found: dict = {}
        self._count = 0
        self._lock = threading.Lock()

    def check(self, task: Task) -> Verdict:
        started = time.monotonic()
        try:
            problem = self._problem(task)
        except EvalAgentError as exc:
            problem = f"could not be checked: {exc}"
        return Verdict(task.id, not problem, problem, round(time.monotonic() - started, 3))

    def check_all(self, tasks: list[Task], jobs: int = 2,
                  on_verdict: Callable[[Verdict], None] = lambda verdict: None) -> list[Verdict]:
        def one(task: Task) -> Verdict:
            verdict = self.check(task)
            on_verdict(verdict)
            return verdict

        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="eval-agent-validate") as pool:
            return list(pool.map(one, tasks))

    def solves(self, solution_of: Task, tests_of: Task) -> bool:
        """Whether one task's solution passes another task's tests, in the other's environment: a
        family whose tasks differ in their answers says no for any two of its tasks."""
        client = docker_client()
        tag = task_image(tests_of, client, self.base_image, found=self._found)
        with self._sandbox(tests_of, tag, "0:0") as sandbox:
            return not self._solution_problem(solution_of, sandbox, judge=tests_of)

    # -- one task ----------------------------------------------------------------------
    def _problem(self, task: Task) -> str:
        if not task.has_solution:
            return "it has no solution to check"
        client = docker_client()
        tag = task_image(task, client, self.base_image, found=self._found)
        image = self._found.get(tag)
        user = (image.attrs["Config"].get("User") if image is not None else None) or "0:0"
        with self._sandbox(task, tag, user) as sandbox:
            if verify(task, sandbox).passed:  # (tests that cannot run fail too: the solution shows it)
                return "the tests pass with nothing done"
            if self.separate:
                return self._solved_problem(task, tag, user)
            return self._solution_problem(task, sandbox)

    def _solved_problem(self, task: Task, tag: str, user: str) -> str:
        with self._sandbox(task, tag, user) as sandbox:
            return self._solution_problem(task, sandbox)

    def _solution_problem(self, task: Task, sandbox: DockerSandbox, judge: Task | None = None) -> str:
        judge = judge or task
        for action in oracle_actions(task):
            if action["tool"] != "bash":
                continue
            ran = sandbox.run(action["args"]["command"], action["args"].get("timeout", task.agent_timeout))
            if ran.timed_out:
                return f"the solution ran past {task.agent_timeout:.0f} s"
        solved = verify(judge, sandbox)
        if solved.error:
            return f"the tests could not judge the solution: {solved.error}"
        if not solved.passed:
            return f"the solution fails its tests: {solved.output.strip()[-OUTPUT_SHOWN:]}"
        return ""

    def _sandbox(self, task: Task, tag: str, user: str) -> "_Prepared":
        with self._lock:
            self._count += 1
            session = f"validate-{secrets.token_hex(3)}-{self._count}"
        return _Prepared(DockerSandbox(DockerSandboxConfig(
            image=tag, workspace=None, network="bridge" if task.allow_internet else "none",
            memory=f"{task.memory_mb}m" if task.memory_mb else "2g", cpus=task.cpus or 1.0, ports=(),
            user=user, session_id=session, hardened=False)), task)


class _Prepared:
    """A task container with the task's thin files in: `with` starts and removes it."""

    def __init__(self, sandbox: DockerSandbox, task: Task):
        self.sandbox, self.task = sandbox, task

    def __enter__(self) -> DockerSandbox:
        self.sandbox.start()
        try:
            if self.task.thin is not None:
                apply_thin(self.sandbox.name, self.task.thin, self.sandbox.workdir)
        except BaseException:
            self.sandbox.close()
            raise
        return self.sandbox

    def __exit__(self, *exc) -> None:
        self.sandbox.close()
