"""eval-agent SIGKILLed at random moments of a dozen real runs, two at a time: every record reads as
finished or incomplete, never unreadable; `traj reindex` rebuilds the very index the runs wrote;
`sandbox prune` leaves none of their containers (benchmarks/soak.py does the same at scale)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from kills import prune_and_count_leaks, run_and_kill


def test_sigkill_at_random_moments_loses_nothing(tmp_path, sandbox_image):
    home = tmp_path / "home"
    report = run_and_kill(home, tmp_path, count=12, seed=17)
    prune_and_count_leaks(home, report)
    assert report.runs == 12 and report.killed >= 6, report
    assert not report.unreadable, report.unreadable
    # a run killed before its request started has no record; every other one reads as one of these
    assert set(report.statuses) <= {"finished", "incomplete"} and report.statuses.get("incomplete"), report
    assert not report.index_differs, f"traj reindex changed these runs' rows: {report.index_differs}"
    assert not report.leaked, f"containers left after sandbox prune: {report.leaked}"
