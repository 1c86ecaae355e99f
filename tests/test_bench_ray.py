"""`bench --executor ray` on a real local Ray cluster: a head node on the default Docker engine and
a worker node on a second, real engine (tests/engines.py), two slots each. The oracle gives the
thread pool's verdicts; a worker killed mid-attempt is tried again; Ctrl-C leaves no container on
either engine; the driver's store serves `traj` and `export` as for a local bench."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import cli_env, run_cli
from engines import ray_cluster
from eval_agent.bench.ray_worker import node_root

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "tasks"


@pytest.fixture(scope="module")
def cluster(second_docker):
    with ray_cluster(second_docker) as running:
        yield running


@pytest.fixture(autouse=True)
def no_leftovers(second_docker):
    """A test that failed half-way leaves its attempts' containers to no later test."""
    yield
    second_docker.remove_containers()
    subprocess.run(["docker", "rm", "-f", *default_engine_containers()], capture_output=True)


def results(folder: Path) -> list[dict]:
    path = folder / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def records(home: Path) -> list[list[dict]]:
    return [[json.loads(line) for line in path.read_text().splitlines()]
            for path in sorted((home / "trajectories").glob("*.jsonl"))]


def niceness_of(pid: int) -> int | None:
    try:
        return os.getpriority(os.PRIO_PROCESS, pid)
    except ProcessLookupError:  # gone since it was listed
        return None


def slow_tasks(folder: Path, names: list[str], seconds: int) -> Path:
    """Copies of a shipped task whose solution first sleeps: time to act while it runs."""
    for name in names:
        task = folder / name
        shutil.copytree(SHIPPED / "csv-summary", task)
        script = task / "solution" / "solve.sh"
        lines = script.read_text().splitlines()
        script.write_text("\n".join([lines[0], f"sleep {seconds}", *lines[1:]]) + "\n")
    return folder


def bench_process(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "eval_agent", "bench", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def wait_for_running_command(timeout: float, count: int = 1) -> None:
    """Until `count` attempts' records on the nodes (their own folders there) show a command started."""
    deadline = time.monotonic() + timeout
    while sum('"tool_started"' in path.read_text(errors="replace")
              for path in node_root().glob("attempts/*/*/home/trajectories/*.jsonl")) < count:
        assert time.monotonic() < deadline, f"fewer than {count} attempts started their command"
        time.sleep(0.2)


def default_engine_containers() -> list[str]:
    listed = subprocess.run(["docker", "ps", "-a", "--filter", "label=eval-agent=1", "--filter", "name=eval-agent-bench-",
                             "--format", "{{.Names}}"], capture_output=True, text=True)
    return listed.stdout.split()


def test_the_oracle_through_ray_gives_the_thread_pools_verdicts(tmp_path, cluster, second_docker, sandbox_image):
    threads_home, ray_home = tmp_path / "threads-home", tmp_path / "ray-home"
    threads = run_cli(["bench", str(SHIPPED), "--agent", "oracle", "-j", "2", "--out", str(tmp_path / "threads")],
                      cli_env(threads_home), timeout=900)
    assert threads.returncode == 0, threads.stderr[-3000:]
    ray_args = ["bench", str(SHIPPED), "--agent", "oracle", "-j", "4", "--executor", "ray", "--ray-address",
                cluster.address, "--out", str(tmp_path / "ray")]
    on_ray = run_cli(ray_args, cli_env(ray_home), timeout=900)
    assert on_ray.returncode == 0, on_ray.stderr[-3000:]
    verdicts = lambda rows: {(r["task"], r["attempt"]): (r["passed"], r["reward"]) for r in rows}  # noqa: E731
    assert verdicts(results(tmp_path / "ray")) == verdicts(results(tmp_path / "threads"))
    assert len(results(tmp_path / "ray")) == len(list(SHIPPED.iterdir()))

    # the second engine ran attempts too: it built task images of its own
    built = second_docker.docker("images", "--format", "{{.Repository}}").stdout.split()
    assert any(name.startswith("eval-agent-task-") for name in built)
    assert second_docker.containers() == [] and default_engine_containers() == []

    # the driver wrote every trajectory and result: its store serves traj and export as for a local bench
    runs = records(ray_home)
    assert len(runs) == len(results(tmp_path / "ray"))
    assert all(run[-1]["type"] == "verification" and run[-1]["passed"] for run in runs)
    assert {row["record"] for row in results(tmp_path / "ray")} == {str(p) for p in (ray_home / "trajectories").glob("*.jsonl")}
    listed = run_cli(["traj", "ls", "--json"], cli_env(ray_home))
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == len(runs), listed.stderr
    exported = run_cli(["export", "-f", "openai", "--verified", "-o", str(tmp_path / "data.jsonl")], cli_env(ray_home))
    assert exported.returncode == 0, exported.stderr
    assert len((tmp_path / "data.jsonl").read_text().splitlines()) == len(runs)

    # a rerun with the same results folder has nothing left to do
    again = run_cli(ray_args, cli_env(ray_home), timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(records(ray_home)) == len(runs)


def test_a_worker_killed_mid_attempt_is_tried_again_and_the_bench_completes(tmp_path, cluster, second_docker):
    tasks = slow_tasks(tmp_path / "tasks", ["slow-one"], seconds=12)
    home = tmp_path / "home"
    process = bench_process([str(tasks), "--agent", "oracle", "--executor", "ray", "--ray-address", cluster.address,
                             "--out", str(tmp_path / "out")], cli_env(home))
    try:
        wait_for_running_command(timeout=120)  # the solution sleeps now, and the node has recorded so far
        killed = cluster.worker_pids()
        assert killed, "no Ray worker runs the attempt"
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, err[-3000:]
    assert "trying again" in err
    [row] = results(tmp_path / "out")
    assert row["passed"] is True and row["error"] is None
    statuses = sorted(run[-1].get("status") or run[-1]["type"] for run in records(home))
    assert statuses == ["interrupted", "verification"]  # the lost try is kept, closed as interrupted
    lost = next(run for run in records(home) if run[-1].get("status") == "interrupted")
    assert "Ray worker was lost" in lost[-1]["reason"]
    assert second_docker.containers() == [] and default_engine_containers() == []


def test_ctrl_c_cancels_every_ray_task_and_leaves_no_container_on_either_engine(tmp_path, cluster, second_docker):
    tasks = slow_tasks(tmp_path / "tasks", ["slow-a", "slow-b"], seconds=120)
    home = tmp_path / "home"
    process = bench_process([str(tasks), "--agent", "oracle", "--attempts", "2", "-j", "4", "--executor", "ray",
                             "--ray-address", cluster.address, "--out", str(tmp_path / "out")], cli_env(home))
    try:
        wait_for_running_command(timeout=180, count=4)
        assert second_docker.containers() and default_engine_containers(), "both engines should hold attempts"
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
        stopped_in = time.monotonic() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err[-3000:]
    assert "Traceback" not in err
    assert stopped_in < 60
    assert second_docker.containers() == [] and default_engine_containers() == []
    assert cluster.worker_pids() == []
    assert results(tmp_path / "out") == []  # nothing was judged
    runs = records(home)
    assert len(runs) == 4 and all(run[-1].get("status") == "interrupted" for run in runs)


def test_an_unreachable_cluster_or_an_unknown_executor_is_one_line(tmp_path):
    env = cli_env(tmp_path / "home")
    done = run_cli(["bench", str(SHIPPED / "csv-summary"), "--agent", "oracle", "--executor", "ray",
                    "--ray-address", "127.0.0.1:1", "--out", str(tmp_path / "out")], env, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no Ray cluster answers" in done.stderr
    done = run_cli(["bench", str(SHIPPED / "csv-summary"), "--executor", "dask"], env)
    assert done.returncode == 2 and "--executor dask" in done.stderr


@pytest.mark.timeout(600)  # two model loads and four attempts on two cores
def test_the_embedded_model_runs_once_per_node_for_that_nodes_attempts(tmp_path, cluster):
    """Two tasks at once on two nodes: each node serves the model from one actor, started on every
    node with slots whether or not an attempt lands there."""
    home = tmp_path / "home"
    tasks = [str(SHIPPED / "csv-summary"), str(SHIPPED / "json-filter")]
    env = cli_env(home, EVAL_AGENT_MAX_TOKENS="24")  # short answers: the model's speed is not the point
    process = bench_process([*tasks, "--model", "local:smollm2-135m", "--max-steps", "1", "-j", "2",
                             "--executor", "ray", "--ray-address", cluster.address, "--out", str(tmp_path / "out")], env)
    most, niceness = 0, set()
    deadline = time.monotonic() + 480
    try:
        while process.poll() is None and time.monotonic() < deadline:
            servers = cluster.worker_pids("NodeModel")
            most = max(most, len(servers))
            niceness |= {nice for nice in map(niceness_of, servers) if nice is not None}
            time.sleep(0.3)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    rows = results(tmp_path / "out")
    assert len(rows) == 2 and all(row["error"] is None for row in rows), err[-3000:]
    assert most == 2  # one server per node, not one per attempt or per worker process
    # at Ray's default nice 15 a busy node starves the model (a stress round once timed out here)
    assert niceness == {0}, niceness
    models = {run[1]["model"]["name"] for run in records(home)}
    assert models == {"smollm2-135m"} and all(run[1]["model"]["provider"] == "local" for run in records(home))
