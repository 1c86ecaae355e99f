"""The run index and the trajectory reader, on files written by the real recorder and the
synthetic writer (no Docker): migrations, resolution, ratings, crash-cut files, unknown formats,
and `traj ls` filters through the real CLI."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import cli_env, run_cli
from eval_agent.events import RunFinished, RunStarted, ToolFinished
from eval_agent.trajectory.reader import read_trajectory
from eval_agent.trajectory.recorder import Recorder, trajectories_dir
from eval_agent.trajectory.store import MIGRATIONS, RunStore, index_path, rate_run
from eval_agent.trajectory.synthetic import SyntheticRun, write_run


def started(run_id: str) -> RunStarted:
    return RunStarted(run_id=run_id, session_id="s1", request="do the thing", model={"provider": "openai", "name": "m"},
                      tool_mode="native", tools=[], prompts={}, sandbox={}, workspace={}, limits={"max_steps": 50},
                      version="0.1.0", task={"id": "t-1", "attempt": 2, "tags": ["web", "easy"]})


def test_migrations_are_named_applied_once_and_recorded(tmp_path):
    with RunStore(tmp_path) as store:
        assert store.migrations() == [name for name, _ in MIGRATIONS]
    with RunStore(tmp_path) as store:  # a second open applies nothing again
        assert store.migrations() == [name for name, _ in MIGRATIONS]
    columns = {row[1] for row in sqlite3.connect(index_path(tmp_path)).execute("PRAGMA table_info(runs)")}
    assert {"verified", "rating", "resumed_from", "pid_started"} <= columns


def test_the_recorder_keeps_the_index_current_as_the_run_goes(tmp_path):
    recorder = Recorder(tmp_path, "run-a", "s1")
    recorder(started("run-a"))
    with RunStore(tmp_path) as store:
        row = store.get("run-a")
        assert row.status == "running" and row.effective_status() == "running"  # this process records it
        assert (row.task_id, row.attempt, row.tags) == ("t-1", 2, ["easy", "web"])
    recorder(ToolFinished(step=1, tool="bash", arguments={"command": "ls"}, call_id="c1", observation="x", ok=True,
                          exit_code=0, full_output="x", duration=0.1, timed_out=False, commit=None))
    with RunStore(tmp_path) as store:
        assert store.get("run-a").steps == 1
    recorder(RunFinished(run_id="run-a", status="finished", reason="done", summary="ok", steps=1, input_tokens=10,
                         output_tokens=5, cost=0.5, seconds=1.0, services=[]))
    recorder.close()
    with RunStore(tmp_path) as store:
        row = store.get("run-a")
    assert (row.status, row.summary, row.tokens, row.cost) == ("finished", "ok", 15, 0.5)
    lines = recorder.path.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "eval-agent.trajectory/1" and header["pid"] and header["host"]


def test_parallel_recorders_on_a_new_home_all_reach_the_index(tmp_path, capsys):
    """A parallel bench's workers open a fresh index at the same moment: each run gets its row,
    and none prints that the index was not updated (the switch to WAL used to fail at once)."""
    import threading

    failures = []

    def record(home, worker):
        try:
            recorder = Recorder(home, f"run-{worker}", "session")
            recorder(started(f"run-{worker}"))
            recorder.close()
        except Exception as exc:  # a thread's exception would not fail the test by itself
            failures.append(exc)

    for trial in range(40):
        home = tmp_path / f"home-{trial}"
        workers = [threading.Thread(target=record, args=(home, worker)) for worker in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        with RunStore(home) as store:
            assert sorted(run.run_id for run in store.runs()) == [f"run-{w}" for w in range(4)], trial
    assert not failures and "not updated" not in capsys.readouterr().err


def test_resolve_by_id_prefix_and_last(tmp_path):
    for index in range(3):
        write_run(tmp_path, SyntheticRun(run_id=f"2026-run-{index}", started_at=1_790_000_000 + index))
    runs = [read_trajectory(path).summary for path in sorted(trajectories_dir(tmp_path).glob("*.jsonl"))]
    with RunStore(tmp_path) as store:
        store.replace_all(runs)
        assert store.resolve("2026-run-1").run_id == "2026-run-1"
        assert store.resolve("last").run_id == "2026-run-2"
        with pytest.raises(Exception, match="several runs"):
            store.resolve("2026-run")
        with pytest.raises(Exception, match="no run 'nope'"):
            store.resolve("nope")


def test_rating_goes_into_the_record_and_survives_reindex(tmp_path):
    path = write_run(tmp_path, SyntheticRun(run_id="rated-run"))
    rate_run(tmp_path, "rated-run", "bad", "it deleted my tests")
    last = json.loads(path.read_text().splitlines()[-1])
    assert (last["type"], last["rating"], last["comment"]) == ("rated", "bad", "it deleted my tests")
    index_path(tmp_path).unlink()
    result = run_cli(["traj", "reindex"], cli_env(tmp_path))
    assert result.returncode == 0, result.stderr
    with RunStore(tmp_path) as store:
        row = store.get("rated-run")
    assert (row.rating, row.rating_comment) == ("bad", "it deleted my tests")
    with pytest.raises(Exception, match="use good or bad"):
        rate_run(tmp_path, "rated-run", "meh")


def test_a_line_cut_by_a_kill_is_dropped_and_the_run_reads_incomplete(tmp_path):
    path = write_run(tmp_path, SyntheticRun(run_id="cut-run", status="incomplete", steps=3))
    with open(path, "a") as file:
        file.write('{"type": "tool_started", "step": 4, "tool": "ba')  # killed in the middle of a write
    trajectory = read_trajectory(path)
    assert trajectory.cut_last_line and not trajectory.complete
    assert trajectory.status == "incomplete" and trajectory.summary.steps == 3



@pytest.mark.parametrize("damage", ['{"type": "tool_started", "st', '{"type": "note"}, {"type": "note"}', "[1, 2]"])
def test_a_damaged_line_inside_the_file_is_named(tmp_path, damage):
    """Not a cut last line (that is a kill): a damaged line in the middle names its number, also
    when the line is JSON that is not one event (the whole file is decoded in one go)."""
    path = write_run(tmp_path, SyntheticRun(run_id="damaged-run", steps=2))
    lines = path.read_text().splitlines()
    lines[3] = damage
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(Exception, match=r"damaged-run\.jsonl line 4 is not a JSON object: the file is damaged"):
        read_trajectory(path)

def test_an_unknown_major_version_is_refused_with_one_line(tmp_path):
    folder = trajectories_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / "future.jsonl").write_text(json.dumps({"type": "header", "format": "eval-agent.trajectory/2",
                                                     "run_id": "future"}) + "\n")
    with pytest.raises(Exception, match="eval-agent.trajectory/2"):
        read_trajectory(folder / "future.jsonl")
    result = run_cli(["traj", "reindex"], cli_env(tmp_path))
    assert result.returncode == 0 and "left out" in result.stdout and "trajectory/2" in result.stdout
    with RunStore(tmp_path) as store:
        store.upsert(read_trajectory(write_run(tmp_path, SyntheticRun(run_id="ok-run"))).summary)
        store.db.execute("INSERT INTO runs (run_id, path) VALUES ('future', ?)", (str(folder / "future.jsonl"),))
    result = run_cli(["traj", "show", "future"], cli_env(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "eval-agent.trajectory/2" in lines[0] and "cannot read" in lines[0]


def test_ls_lists_and_filters_runs(tmp_path):
    write_run(tmp_path, SyntheticRun(run_id="r-old", started_at=1_700_000_000, steps=2, model=("openai", "gpt-4o")))
    write_run(tmp_path, SyntheticRun(run_id="r-limit", status="limit", steps=9, started_at=1_790_000_000,
                                     task={"id": "todo", "tags": ["web"]}, verified=False))
    write_run(tmp_path, SyntheticRun(run_id="r-good", steps=3, started_at=1_790_000_100, verified=True, rating="good",
                                     model=("anthropic", "claude"), task={"id": "todo", "tags": ["web", "easy"]}))
    env = cli_env(tmp_path, COLUMNS="160")

    def ls(*args: str) -> list[str]:
        result = run_cli(["traj", "ls", "--json", *args], env)
        assert result.returncode == 0, result.stderr
        return [json.loads(line)["run_id"] for line in result.stdout.splitlines()]

    assert ls() == ["r-old", "r-limit", "r-good"], "files not yet indexed are picked up"
    assert ls("--status", "limit") == ["r-limit"]
    assert ls("--verified") == ["r-good"] and ls("--failed") == ["r-limit"]
    assert ls("--rating", "good") == ["r-good"] and ls("--rating", "unrated") == ["r-old", "r-limit"]
    assert ls("--model", "claude") == ["r-good"]
    assert ls("--since", "2026-01-01") == ["r-limit", "r-good"] and ls("--until", "2026-01-01") == ["r-old"]
    assert ls("--tag", "web", "--tag", "easy") == ["r-good"] and ls("--task", "todo") == ["r-limit", "r-good"]
    assert ls("--min-steps", "5") == ["r-limit"] and ls("--max-steps", "3") == ["r-old"]
    table = run_cli(["traj", "ls"], env)
    assert table.returncode == 0 and "r-limit" in table.stdout and "limit" in table.stdout
    bad = run_cli(["traj", "ls", "--since", "yesterday-ish"], env)
    assert bad.returncode == 2 and "--since" in bad.stderr and "Traceback" not in bad.stderr
