"""`bench --executor ray` with no cluster to join: the bench starts a Ray of its own on this
machine, runs on it, stops it, and leaves nothing that would keep a later `ray start` cluster of
this machine from being joined (Ray writes an auth token to ~/.ray unless given one)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import cli_env, run_cli

SHIPPED = Path(__file__).resolve().parents[1] / "tasks"


def test_without_a_cluster_the_bench_runs_on_a_ray_of_its_own(tmp_path):
    home = tmp_path / "user-home"
    home.mkdir()
    env = cli_env(tmp_path / "eval-home", HOME=str(home), RAY_ADDRESS="")
    done = run_cli(["bench", str(SHIPPED / "csv-summary"), str(SHIPPED / "json-filter"), "--agent", "oracle", "-j", "2",
                    "--executor", "ray", "--out", str(tmp_path / "out")], env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pass rate 2/2" in done.stdout
    assert not (home / ".ray" / "auth_token").exists()
    left = subprocess.run(["pgrep", "-f", "ray::|raylet|gcs_server"], capture_output=True, text=True).stdout.split()
    assert left == []
