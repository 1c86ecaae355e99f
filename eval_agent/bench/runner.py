"""Runs tasks x attempts on a pool of worker threads. One attempt: the task's image, a sandbox
from it in the image's own working directory (no workspace mount), a Session whose run carries
the task's id and attempt, then the tests (copied in only now), whose verdict is recorded in
the run's trajectory and in results.jsonl. Everything is torn down after each attempt.

A rerun with the same results folder skips the attempts already judged (errors are retried).
Ctrl-C (or SIGTERM) stops the workers' commands, records their runs as interrupted, and removes
every container of this bench before it returns; interrupted attempts are not written."""

from __future__ import annotations

import queue
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from docker.errors import APIError, DockerException

from ..config import Settings
from ..errors import EvalAgentError, ModelError, UsageError
from ..events import Verification
from ..models.registry import load_model, parse_spec
from ..sandbox.base import CommandResult
from ..sandbox.docker_sandbox import DockerSandbox, DockerSandboxConfig
from ..sandbox.factory import sandbox_settings, start_sandbox
from ..sandbox.engine import CONTAINER_PREFIX, LABEL, docker_client
from ..sandbox.shell import CommandInterrupted
from ..session import Session, choose_model_spec
from .images import task_image
from .oracle import nop_actions, oracle_actions, write_script
from .progress import Progress
from .report import AttemptResult, ResultsFile
from .tasks import SOLUTION_DIR, Task
from .container_files import apply_thin, copy_into
from .verify import verify

AGENTS = ("eval", "oracle", "nop")
EXECUTORS = ("threads", "ray")
STOP_GRACE = 20.0  # seconds the workers get to record their interrupted runs before containers go


@dataclass
class BenchOptions:
    out: Path
    agent: str = "eval"  # eval: the model; oracle: the task's solution; nop: nothing
    jobs: int = 1
    attempts: int = 1
    timeout: float | None = None  # the agent's seconds per attempt; default: the task's own
    base_image: str | None = None  # in place of a FROM image that cannot be had
    executor: str = "threads"  # threads: this machine's engine; ray: a Ray cluster's nodes (ray_executor)
    ray_address: str | None = None  # None: the cluster this machine belongs to, else a local one


@dataclass(frozen=True)
class _Image:
    tag: str
    user: str | None  # the image's configured User, if any


@dataclass
class _Active:
    task: str
    attempt: int
    sandbox: DockerSandbox | None = None


class StoppableSandbox(DockerSandbox):
    """A DockerSandbox the bench can stop from its main thread: once `stop` is set, the command
    running now is stopped and every command raises CommandInterrupted in the worker's own thread,
    which the agent loop takes as a Ctrl-C (the run is recorded as interrupted). Once `deadline`
    is set, no command runs past it: the task's time limit holds even for one long command."""

    def __init__(self, config: DockerSandboxConfig, stop: threading.Event):
        super().__init__(config)
        self._stop_event = stop
        self.deadline: float | None = None  # time.monotonic() value

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        if self._stop_event.is_set():
            raise CommandInterrupted(CommandResult(command, "", 130, 0.0, interrupted=True))
        if self.deadline is not None:
            left = max(1.0, self.deadline - time.monotonic())
            timeout = min(self.info.command_timeout if timeout is None else timeout, left)
        result = super().run(command, timeout)
        if self._stop_event.is_set():
            raise CommandInterrupted(result)
        return result


class BenchRunner:
    def __init__(self, tasks: list[Task], settings: Settings, options: BenchOptions,
                 home: Path | None = None, bench_id: str | None = None, found_images: dict | None = None):
        if options.agent not in AGENTS:
            raise UsageError(f"--agent {options.agent}: use one of {', '.join(AGENTS)}")
        if options.jobs < 1 or options.attempts < 1:
            raise UsageError("-j and --attempts must be at least 1")
        self.tasks, self.settings, self.options = tasks, settings, options
        self.model_spec = ""
        if options.agent == "eval":  # fail once, here, rather than once per attempt
            self.model_spec = choose_model_spec(settings)
            if options.executor == "ray" and parse_spec(self.model_spec)[0] == "local":
                pass  # the embedded model is loaded on each node (ray_models.py), not here
            else:
                load_model(self.model_spec, base_url=settings.base_url, temperature=settings.temperature)
        self.results = ResultsFile(options.out)
        self.bench_id = bench_id or secrets.token_hex(3)
        self.home = home  # where the sessions record; None: EVAL_AGENT_HOME
        self.driver_cost = None  # --executor ray: what the driver spent per attempt (ray_executor.DriverCost)
        self._queue: queue.Queue[tuple[Task, int]] = queue.Queue()
        self._stop = threading.Event()
        self._active: dict[int, _Active] = {}
        self._active_lock = threading.Lock()
        self._count = 0
        self.progress: Progress | None = None
        self._images: dict[str, _Image] = {}
        # images the engine has shown this bench (a Ray worker: this process), by reference (see task_image)
        self._found: dict = {} if found_images is None else found_images
        self._image_locks = {task.id: threading.Lock() for task in tasks}

    @property
    def meta(self) -> dict:
        return {"agent": self.options.agent, "model": self.model_spec or None}

    def pending(self, done: list[AttemptResult]) -> list[tuple[Task, int]]:
        judged = {(r.task, r.attempt) for r in done if r.error is None}
        return [(task, attempt) for attempt in range(1, self.options.attempts + 1) for task in self.tasks
                if (task.id, attempt) not in judged]

    # -- the pool --------------------------------------------------------------------
    def run(self, progress: Progress, work: list[tuple[Task, int]]) -> None:
        self.progress = progress
        for item in work:
            self._queue.put(item)
        workers = [threading.Thread(target=self._work, name=f"eval-agent-bench-{i}", daemon=True)
                   for i in range(min(self.options.jobs, len(work)))]
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                while worker.is_alive():
                    worker.join(0.2)  # short waits: Ctrl-C reaches this thread between them
        except BaseException:
            self._stop.set()
            progress.message("stopping: interrupting the running attempts and removing their containers")
            self._stop_commands()
            deadline = time.monotonic() + STOP_GRACE
            try:
                for worker in workers:
                    worker.join(max(0.0, deadline - time.monotonic()))
            except BaseException:
                pass  # a second Ctrl-C: go straight to the cleanup
            raise
        finally:
            self._remove_containers()

    def _work(self) -> None:
        active = _Active("", 0)
        with self._active_lock:
            self._active[threading.get_ident()] = active
        try:
            while not self._stop.is_set():
                try:
                    task, attempt = self._queue.get_nowait()
                except queue.Empty:
                    return
                active.task, active.attempt, active.sandbox = task.id, attempt, None
                try:
                    result = self._attempt(task, attempt, active)
                except KeyboardInterrupt:
                    self.progress.attempt_dropped(task.id, attempt)
                    return
                except Exception as exc:  # a bug must not take the other attempts down
                    result = self.blank(task, attempt, error=f"{type(exc).__name__}: {exc}")
                if self._stop.is_set():
                    self.progress.attempt_dropped(task.id, attempt)
                    return
                self.results.append(result)
                self.progress.attempt_done(result)
        except KeyboardInterrupt:
            return
        finally:
            with self._active_lock:
                self._active.pop(threading.get_ident(), None)

    def _stop_commands(self) -> None:
        """Stops the command each worker waits on; with the stop flag set, its sandbox then raises
        in that worker's thread (see StoppableSandbox)."""
        with self._active_lock:
            actives = list(self._active.values())
        for active in actives:
            if active.sandbox is not None:
                try:
                    active.sandbox.interrupt()
                except Exception:
                    pass  # not started yet, or gone already

    def _remove_containers(self) -> None:
        remove_containers((bench_container_prefix(self.bench_id),))

    # -- one attempt -----------------------------------------------------------------
    def run_one(self, task: Task, attempt: int, progress: Progress) -> AttemptResult:
        """One attempt in this thread, as a pool worker runs it (a Ray worker calls this)."""
        self.progress = progress
        return self._attempt(task, attempt, _Active(task.id, attempt))

    def blank(self, task: Task, attempt: int, **values) -> AttemptResult:
        fields = dict(task=task.id, attempt=attempt, passed=False, reward=None, steps=0, tokens=0,
                      input_tokens=0, output_tokens=0, cost=0.0, seconds=0.0, run_id=None, error=None,
                      category=task.category, agent=self.options.agent, model=self.model_spec, family=task.family,
                      difficulty=task.difficulty or "")
        return AttemptResult(**{**fields, **values})

    def _attempt(self, task: Task, attempt: int, active: _Active) -> AttemptResult:
        started = time.monotonic()
        limit = self.options.timeout or task.agent_timeout
        progress = self.progress
        progress.attempt_started(task.id, attempt, limit)
        try:
            settings = self._settings_for(task, limit)
            image = self.image_for(task)
            progress.set_state(task.id, attempt, "starting sandbox")
            sandbox = active.sandbox = self._sandbox(task, image, settings)  # started; the session closes it
            emit = lambda event: progress.on_event(task.id, attempt, event)  # noqa: E731
            with Session(settings, None, emit=emit, sandbox=sandbox, home_dir=self.home) as session:
                return self._run_and_verify(task, attempt, session, sandbox, started)
        except EvalAgentError as exc:
            return self.blank(task, attempt, error=str(exc), seconds=round(time.monotonic() - started, 3))

    def _run_and_verify(self, task: Task, attempt: int, session: Session, sandbox: StoppableSandbox,
                        started: float) -> AttemptResult:
        if task.thin is not None:  # the task's own files into the shared image's container
            apply_thin(sandbox.name, task.thin, sandbox.workdir)
        solution_files = task.solution_files if self.options.agent == "oracle" else {}
        if solution_files:
            copy_into(sandbox.name, SOLUTION_DIR, solution_files)
        if self._stop.is_set():
            raise KeyboardInterrupt
        self.progress.set_state(task.id, attempt, "agent")
        sandbox.deadline = time.monotonic() + session.settings.max_seconds
        meta = {"id": task.id, "attempt": attempt, "category": task.category, "tags": task.tags,
                "format": task.format, "agent": self.options.agent, "family": task.family,
                "difficulty": task.difficulty}
        try:
            run = session.run(task.instruction, task=meta)
        except ModelError as exc:
            record = session.recorder.path if session.recorder else None
            return self.blank(task, attempt, error=str(exc), seconds=round(time.monotonic() - started, 3),
                               record=str(record) if record else None)
        outcome = run.outcome
        if outcome.status == "interrupted" or self._stop.is_set():
            raise KeyboardInterrupt
        self.progress.set_state(task.id, attempt, "verifying")
        sandbox.deadline = None
        check = verify(task, sandbox)
        output = check.output if check.error is None else f"[{check.error}]\n{check.output}"
        session.record(Verification(command=check.command, passed=check.passed, reward=check.reward, output=output))
        tokens_in, tokens_out = outcome.input_tokens, outcome.output_tokens
        return self.blank(
            task, attempt, passed=check.passed, reward=check.reward, steps=outcome.steps,
            tokens=tokens_in + tokens_out, input_tokens=tokens_in, output_tokens=tokens_out, cost=outcome.cost,
            seconds=round(time.monotonic() - started, 3), run_id=run.run_id, error=check.error,
            status=outcome.status, record=str(run.record),
        )

    def _settings_for(self, task: Task, limit: float) -> Settings:
        update: dict = {"max_seconds": limit}
        if self.options.agent != "eval":
            actions = oracle_actions(task) if self.options.agent == "oracle" else nop_actions()
            script = write_script(actions, self.options.out / self.options.agent, task.id)
            update.update(model=f"scripted:{script}", tool_mode="native", max_steps=len(actions) + 1)
        if not task.allow_internet:
            update["network"] = "none"
        return self.settings.replace(**update)

    def image_for(self, task: Task) -> _Image:
        """The task's image and its user, found once per bench: hashing the build context and
        asking the engine on every attempt cost each attempt, and the workers waited on it.
        A failure is not kept: the next attempt tries again."""
        with self._image_locks[task.id]:
            if task.id not in self._images:
                tag = task_image(task, docker_client(), self.options.base_image, log=self.progress.message,
                                 found=self._found)
                image = self._found.get(tag)
                self._images[task.id] = _Image(tag, image.attrs["Config"].get("User") if image is not None else None)
            return self._images[task.id]

    def _sandbox(self, task: Task, image: _Image, settings: Settings) -> StoppableSandbox:
        with self._active_lock:
            self._count += 1
            session_id = f"bench-{self.bench_id}-{self._count}"
        wanted = sandbox_settings(
            settings, kind="docker", image=image.tag, workspace=None,
            memory=f"{task.memory_mb}m" if task.memory_mb else settings.memory, cpus=task.cpus or settings.cpus,
            ports=(),  # nobody on the host needs a bench task's ports; publishing them costs time
            user=image.user or "0:0", session_id=session_id, hardened=False,
        )
        return start_sandbox(wanted, docker=lambda config: StoppableSandbox(config, self._stop))


def bench_container_prefix(bench_id: str, key: str = "") -> str:
    """The names of a bench's containers start so (a Ray attempt's: with its key too)."""
    return f"{CONTAINER_PREFIX}bench-{bench_id}-" + (f"{key}-" if key else "")


def remove_containers(prefixes: tuple[str, ...]) -> None:
    """Removes eval-agent's containers whose names start with one of `prefixes`; quietly, since
    the engine may be gone or the containers removed already."""
    try:  # the engine's name filter matches anywhere in the name: it narrows, startswith decides
        found = docker_client().containers.list(all=True, filters={"label": f"{LABEL}=1", "name": list(prefixes)},
                                                ignore_removed=True)
    except (APIError, DockerException, EvalAgentError):
        return
    for container in found:
        if container.name.startswith(prefixes):
            try:
                container.remove(force=True)
            except (APIError, DockerException):
                pass  # gone already


def run_bench(tasks: list[Task], settings: Settings, options: BenchOptions,
              progress: Progress | None = None) -> tuple[list[AttemptResult], dict]:
    """Runs what is not done yet in options.out; returns every result there, and the meta."""
    runner = BenchRunner(tasks, settings, options)
    if options.executor == "threads":
        docker_client()  # no engine: one line and exit code 3, not one error per attempt
    runner.results.check_meta(runner.meta)
    wanted = {task.id for task in tasks}
    before = [r for r in runner.results.load() if r.task in wanted and r.attempt <= options.attempts]
    work = runner.pending(before)
    judged_before = [r for r in before if r.error is None]
    progress = progress or Progress(len(tasks) * options.attempts, options.jobs, judged_before)
    if options.executor == "ray":
        from .ray_executor import RayBench

        on_ray = RayBench(runner)  # joins the cluster first: a bad address is one line, before the display
        with progress:
            on_ray.run(progress, work)
    else:
        with progress:
            runner.run(progress, work)
    results = [r for r in runner.results.load() if r.task in wanted and r.attempt <= options.attempts]
    return results, runner.meta


__all__ = ["AGENTS", "EXECUTORS", "BenchOptions", "BenchRunner", "run_bench"]
