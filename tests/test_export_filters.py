"""Every export filter, on synthetic trajectories (real files, real index, the real CLI): which runs
are written, and what the closing summary says each filter dropped."""

from __future__ import annotations

import json
import re

import pytest

from conftest import cli_env, run_cli
from eval_agent.trajectory.synthetic import SyntheticRun, write_run

DAY = 86_400
T0 = 1_790_000_000  # 2026-09-21


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("filters") / "home"
    same = ["ls", "pytest -q"]
    runs = [
        SyntheticRun(run_id="a-finished", started_at=T0, steps=2, commands=same, request="same request",
                     task={"id": "t1", "tags": ["web"]}, verified=True, rating="good"),
        SyntheticRun(run_id="b-duplicate", started_at=T0 + 10, steps=2, commands=same, request="same request",
                     task={"id": "t1", "tags": ["web"]}, verified=True),
        SyntheticRun(run_id="c-limit", started_at=T0 + 20, steps=12, status="limit", task={"id": "t1"}, verified=False),
        SyntheticRun(run_id="d-long", started_at=T0 + DAY, steps=3, tokens_per_call=60_000, model=("anthropic", "claude-x"),
                     task={"id": "t2", "tags": ["cli"]}, rating="bad"),
        SyntheticRun(run_id="e-killed", started_at=T0 + 2 * DAY, steps=1, status="incomplete"),
        SyntheticRun(run_id="f-later", started_at=T0 + 3 * DAY, steps=5, failed_steps=(2,), task={"id": "t2", "tags": ["cli", "web"]}),
    ]
    for spec in runs:
        write_run(home, spec)
    return home


def exported(home, tmp_path, *args: str) -> tuple[list[str], dict[str, int]]:
    out = tmp_path / "alpaca"
    result = run_cli(["export", "--format", "alpaca", "--out", str(out), *args], cli_env(home))
    assert result.returncode == 0, result.stderr
    written = [row["run_id"] for row in json.loads((out / "eval_agent_alpaca.json").read_text())]
    dropped_line = next(line for line in result.stdout.splitlines() if line.startswith("dropped: "))
    dropped = {name: int(count) for name, count in re.findall(r"([a-z-]+) (\d+)", dropped_line)}
    assert f"exported {len(written)} of 6 runs" in result.stdout
    return written, dropped


ALL = ["a-finished", "b-duplicate", "c-limit", "d-long", "e-killed", "f-later"]


@pytest.mark.parametrize("args, kept, dropped", [
    ([], ALL, {}),
    (["--status", "finished"], ["a-finished", "b-duplicate", "d-long", "f-later"], {"status": 2}),
    (["--status", "limit", "--status", "incomplete"], ["c-limit", "e-killed"], {"status": 4}),
    (["--verified"], ["a-finished", "b-duplicate"], {"verified": 4}),
    (["--failed"], ["c-limit"], {"verified": 5}),
    (["--rating", "bad"], ["d-long"], {"rating": 5}),
    (["--model", "claude"], ["d-long"], {"model": 5}),
    (["--since", "2026-09-22T00:00"], ["d-long", "e-killed", "f-later"], {"since": 3}),
    (["--until", "2026-09-22T00:00"], ["a-finished", "b-duplicate", "c-limit"], {"until": 3}),
    (["--tag", "cli"], ["d-long", "f-later"], {"tag": 4}),
    (["--tag", "cli", "--tag", "web"], ["f-later"], {"tag": 5}),
    (["--task", "t2"], ["d-long", "f-later"], {"task": 4}),
    (["--min-steps", "6"], ["c-limit", "f-later"], {"min-steps": 4}),
    (["--max-steps", "3"], ["a-finished", "b-duplicate", "e-killed"], {"max-steps": 3}),
    (["--max-tokens", "20000"], ["a-finished", "b-duplicate", "c-limit", "e-killed", "f-later"], {"max-tokens": 1}),
    (["--dedupe"], ["a-finished", "c-limit", "d-long", "e-killed", "f-later"], {"dedupe": 1}),
    (["--max-per-task", "1"], ["a-finished", "d-long", "e-killed"], {"max-per-task": 3}),
    (["--limit", "2"], ["a-finished", "b-duplicate"], {"limit": 4}),
    (["--status", "finished", "--dedupe", "--max-per-task", "1"], ["a-finished", "d-long"],
     {"status": 2, "dedupe": 1, "max-per-task": 1}),
])
def test_each_filter_keeps_the_right_runs_and_counts_what_it_dropped(home, tmp_path, args, kept, dropped):
    written, counts = exported(home, tmp_path, *args)
    assert written == kept
    assert counts == dropped


def test_bad_filter_values_are_one_line_usage_errors(home, tmp_path):
    for args, expected in ((["--status", "done"], "--status done"), (["--rating", "ok"], "--rating ok"),
                           (["--until", "soon"], "--until"), (["--limit", "0"], "--limit"),
                           (["--val-ratio", "0.2"], "trl format only"), (["--weight-failed-steps", "0"], "openai format only")):
        result = run_cli(["export", "--format", "alpaca", "--out", str(tmp_path / "x"), *args], cli_env(home))
        assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "x").exists()


def test_trl_split_is_seeded_stable_and_complete(tmp_path):
    import datasets

    home = tmp_path / "home"
    for index in range(40):
        write_run(home, SyntheticRun(run_id=f"run-{index:02d}", started_at=T0 + index, steps=1, seed=index))
    splits = {}
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        result = run_cli(["export", "--format", "trl", "--out", str(tmp_path / name), "--val-ratio", "0.25",
                          "--seed", seed], cli_env(home))
        assert result.returncode == 0, result.stderr
        loaded = datasets.load_dataset(str(tmp_path / name), cache_dir=str(tmp_path / "hf-cache"))
        splits[name] = {split: sorted(loaded[split]["run_id"]) for split in loaded}
    train, test = splits["a"]["train"], splits["a"]["test"]
    assert len(train) + len(test) == 40 and not set(train) & set(test) and 4 <= len(test) <= 16
    assert splits["a"] == splits["b"], "the same seed gives the same split"
    assert splits["a"] != splits["c"], "another seed gives another split"
    card = (tmp_path / "a" / "README.md").read_text()
    assert "split: test" in card and f"| test | {len(test)} |" in card and "seed 7" in card
