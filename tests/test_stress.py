"""Several lessons at once on a busy machine: every record arrives, no run hangs.

The installed command, three runs at once, one spinning process per core. Bounded: a
200-cell lesson, three rounds (about 15 s here), and a deadline per round that a hang runs
into instead of the suite's own timeout. bench/bench_stress.py runs 12 rounds and reports
the slowest run beside a single one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_stress import busy_cpus, run_parallel, write_lesson  # noqa: E402

CELLS = 200


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_parallel_runs_under_load_all_finish(tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path, CELLS)
    with busy_cpus():
        for _ in range(3):
            outcomes = run_parallel(lesson, parallel=3, deadline_s=120)
            for o in outcomes:
                assert o.returncode is not None, f"a run hung after {o.records} records"
                assert (o.returncode, o.records, o.statuses) == (0, CELLS, {"ok"}), o.stderr
