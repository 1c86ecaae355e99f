"""`bench --executor ray`: every attempt is a Ray task on a node that offers a free `eval_agent_slot`
(ray start --resources '{"eval_agent_slot": N}': N attempts at once on that node); `-j` caps how
many run at once in all. A node builds a task's image once and reuses it.

The driver (this process) stays the one writer: it receives each attempt's result and trajectory,
writes the trajectory into EVAL_AGENT_HOME, indexes it and appends the result, so `traj` and
`export` read a Ray bench as they read a local one. Tasks travel as archives in Ray's object store.

A worker or node lost mid-attempt: the attempt's partial record is fetched from the node if it
still runs, kept as interrupted, and the attempt is tried again elsewhere (MAX_TRIES in all).
Ctrl-C cancels every Ray task, then removes the bench's containers on every node."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import home
from ..errors import UsageError
from ..events import RunFinished
from ..trajectory.reader import TrajectoryError, read_summary
from ..trajectory.recorder import append_event, trajectories_dir
from ..trajectory.store import open_store
from .progress import Progress
from .runner import BenchRunner
from .task_archive import pack_task
from .tasks import Task
from .ray_models import start_node_models
from .ray_worker import SLOT, AttemptDone, AttemptJob, run_attempt, sweep_node

MAX_TRIES = 3  # an attempt whose worker is lost this often is given up, with an error
SWEEP_WAIT = 60.0  # seconds the driver waits for the nodes' sweeps
# variables the model client reads, passed to the workers (they never reach a sandbox)
MODEL_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "EVAL_AGENT_MODEL_PRICES")
EXTRA_HINT = "pip install 'eval-agent[ray]'"


@dataclass
class Flight:
    task: Task
    attempt: int
    tries: int
    key: str


@dataclass
class DriverCost:
    """What the driver spends on each attempt it receives: trajectory written, indexed, result appended."""

    bytes: int = 0
    samples: list[float] = field(default_factory=list)  # seconds, one per attempt taken in


def import_ray():
    logging.getLogger("ray").setLevel(logging.ERROR)  # its notices are not the user's business
    try:
        import ray
    except ImportError:
        raise UsageError(f"--executor ray needs Ray: {EXTRA_HINT}") from None
    return ray


def connect(address: str | None, jobs: int) -> Any:
    """Joins the cluster at `address`; without one, the cluster this machine is part of (`ray
    start`, or RAY_ADDRESS), else a Ray of its own on this machine with `jobs` slots."""
    ray = import_ray()
    env = {name: os.environ[name] for name in MODEL_ENV if name in os.environ}
    # Ray starts its workers at nice 15; on a node that is busy with anything else, that starves
    # the model server and the attempts' loops (an attempt's time limit is wall-clock time)
    env["RAY_worker_niceness"] = "0"
    options = dict(log_to_driver=False, logging_level=logging.ERROR, runtime_env={"env_vars": env})
    if address:
        if not _answers(address):  # Ray itself would wait for it for ever
            raise UsageError(f"--ray-address {address}: no Ray cluster answers there; start one with "
                             "`ray start --head`, or leave --ray-address out to run Ray on this machine")
        ray.init(address=address, **options)
    else:
        found = _this_machines_cluster()
        if found:
            ray.init(address=found, **options)
        else:
            # a Ray of the bench's own, with a token of its own: Ray would otherwise write one to
            # ~/.ray/auth_token, and a `ray start` cluster of this machine could no longer be joined
            os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
            ray.init(resources={SLOT: jobs}, include_dashboard=False, **options)
    slots = ray.cluster_resources().get(SLOT, 0)
    if not slots:
        ray.shutdown()
        raise UsageError(f"the Ray cluster offers no {SLOT}: start each node with Docker as "
                         f"`ray start ... --resources '{{\"{SLOT}\": N}}'` (N attempts at once on that node)")
    return ray


def _answers(address: str, timeout: float = 5.0) -> bool:
    """Does something listen at HOST:PORT (a ray:// client address: its HOST:PORT)?"""
    host, _, port = address.split("://")[-1].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def _this_machines_cluster() -> str | None:
    """RAY_ADDRESS, else the cluster `ray start` on this machine wrote down, when it answers."""
    address = os.environ.get("RAY_ADDRESS", "")
    if not address:
        try:
            address = (Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster").read_text().strip()
        except OSError:
            return None
    return address if address and _answers(address, timeout=2.0) else None


class RayBench:
    def __init__(self, runner: BenchRunner):
        self.runner, self.options = runner, runner.options
        self.home = home()
        self.cost = runner.driver_cost = DriverCost()
        self._tried = 0
        self._inflight: dict = {}
        self.ray = connect(self.options.ray_address, self.options.jobs)

    def run(self, progress: Progress, work: list[tuple[Task, int]]) -> None:
        ray, self.progress = self.ray, progress
        try:
            self._run(work)
        except BaseException:
            self.progress.message("stopping: cancelling the Ray tasks and removing their containers on every node")
            for ref in list(self._inflight):
                try:
                    ray.cancel(ref, force=True)
                except Exception:
                    pass  # done already
            self._sweep(None, "the bench was stopped (Ctrl-C) while it ran on Ray")
            raise
        finally:
            ray.shutdown()

    def _run(self, work: list[tuple[Task, int]]) -> None:
        ray = self.ray
        archives = {}
        for task in {task.id: task for task, _ in work}.values():
            data, digest = pack_task(task)
            archives[task.id] = (ray.put(data), digest)
        nodes = [node for node in ray.nodes() if node.get("Alive") and node.get("Resources", {}).get(SLOT)]
        self._model_servers = start_node_models(ray, self.runner.model_spec, self.runner.bench_id, nodes)
        self._attempt_task = ray.remote(run_attempt).options(num_cpus=0, resources={SLOT: 1}, max_retries=0)
        pending = deque(Flight(task, attempt, 1, "") for task, attempt in work)
        while pending or self._inflight:
            while pending and len(self._inflight) < self.options.jobs:
                self._submit(pending.popleft(), archives)
            ready, _ = ray.wait(list(self._inflight), num_returns=1, timeout=0.2)  # short: Ctrl-C gets through
            for ref in ready:
                flight = self._inflight.pop(ref)
                again = self._receive(ref, flight)
                if again is not None:
                    pending.appendleft(again)

    def _submit(self, flight: Flight, archives: dict) -> None:
        self._tried += 1
        flight.key = f"{self._tried}"
        archive, digest = archives[flight.task.id]
        runner = self.runner
        # the model the driver chose, not one a node would choose from its own environment
        settings = runner.settings.replace(model=runner.model_spec) if runner.model_spec else runner.settings
        job = AttemptJob(bench_id=runner.bench_id, key=flight.key, task=flight.task, digest=digest,
                         attempt=flight.attempt, settings=settings, options=self.options,
                         model_servers=self._model_servers)
        if flight.tries == 1:
            limit = self.options.timeout or flight.task.agent_timeout
            self.progress.attempt_started(flight.task.id, flight.attempt, limit)
        self.progress.set_state(flight.task.id, flight.attempt, "on Ray" if flight.tries == 1 else f"on Ray (try {flight.tries})")
        self._inflight[self._attempt_task.remote(job, archive)] = flight

    def _receive(self, ref, flight: Flight) -> Flight | None:
        """Stores a finished attempt; returns the flight to try again when its worker was lost."""
        ray = self.ray
        task, attempt = flight.task, flight.attempt
        try:
            done: AttemptDone = ray.get(ref)
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.LocalRayletDiedError,
                ray.exceptions.OwnerDiedError, ray.exceptions.ObjectLostError, ray.exceptions.TaskCancelledError) as exc:
            reason = f"its Ray worker was lost ({type(exc).__name__})"
            self._sweep([flight.key], f"{reason}; the attempt was tried again" if flight.tries < MAX_TRIES else reason)
            if flight.tries < MAX_TRIES:
                self.progress.message(f"{task.id} attempt {attempt}: {reason}; trying again")
                return Flight(task, attempt, flight.tries + 1, "")
            self._finish(self.runner.blank(task, attempt, error=f"{reason} {MAX_TRIES} times"))
            return None
        except ray.exceptions.RayError as exc:  # the attempt itself raised: a bug, said as its error
            cause = getattr(exc, "cause", None) or exc
            self._finish(self.runner.blank(task, attempt, error=f"{type(cause).__name__}: {cause}"[:500]))
            return None
        started = time.perf_counter()
        result = done.result
        stored = self._store_records(done.records)
        if result.record:
            result.record = str(stored.get(Path(result.record).name, result.record))
        self._finish(result)
        spent = time.perf_counter() - started
        self.cost.bytes += sum(len(data) for data in done.records.values())
        self.cost.samples.append(spent)
        return None

    def _finish(self, result) -> None:
        self.runner.results.append(result)
        self.progress.attempt_done(result)

    def _store_records(self, records: dict[str, bytes], interrupted: str = "") -> dict[str, Path]:
        """Writes trajectory files into this machine's store and indexes them. `interrupted`: the
        reason to close a partial record with (a lost worker, a cancelled bench)."""
        folder = trajectories_dir(self.home)
        folder.mkdir(parents=True, exist_ok=True)
        stored = {}
        with open_store(self.home) as store:
            for name, data in records.items():
                data = data[:data.rfind(b"\n") + 1]  # a line cut short by the kill is not kept
                if not data:
                    continue  # killed before the first line: nothing was recorded
                path = folder / Path(name).name  # a bare name: nothing from a node picks the folder
                with open(path, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                try:
                    summary = read_summary(path)
                    if interrupted and summary.status in ("running", "incomplete"):  # no run_finished yet
                        append_event(path, RunFinished(
                            run_id=summary.run_id, status="interrupted", reason=interrupted, summary="",
                            steps=summary.steps, input_tokens=summary.input_tokens,
                            output_tokens=summary.output_tokens, cost=summary.cost, seconds=0.0, services=[]))
                        summary = read_summary(path)
                    store.upsert(summary)
                except TrajectoryError:
                    pass  # kept as it came; `traj reindex` says what is wrong with it
                stored[path.name] = path
        return stored

    def _sweep(self, keys: list[str] | None, reason: str) -> None:
        """Every live node removes the containers of `keys` (None: the whole bench) and hands back
        what their attempts recorded; that is stored, closed as interrupted."""
        ray = self.ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        sweep = ray.remote(sweep_node)
        refs = []
        for node in ray.nodes():
            if node.get("Alive"):
                strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
                refs.append(sweep.options(num_cpus=0, scheduling_strategy=strategy, max_retries=0)
                            .remote(self.runner.bench_id, keys))
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=SWEEP_WAIT)
        for ref in ready:
            try:
                found = ray.get(ref)
            except ray.exceptions.RayError:
                continue
            for records in found.values():
                self._store_records(records, interrupted=reason)


__all__ = ["MAX_TRIES", "RayBench", "SLOT", "connect"]
