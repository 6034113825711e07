"""Stress benchmark: several `autograd-tutor run` at once on a busy machine; none may hang.

    .venv/bin/python bench/bench_stress.py [--rounds 12] [--parallel 3] [--cells 200]

Each round starts `--parallel` runs of the same lesson of `--cells` cells (each prints a
small tensor) while one busy loop per core keeps the CPUs loaded, and checks that every
run ends with every record. The figure that matters is the slowest run, printed beside a
single run's time on the same (busy) machine, measured first in the same invocation.
Target (issue 10): 3 parallel runs per 2 cores, 12 rounds in a row, none hangs.

tests/test_stress.py imports `write_lesson`, `busy_cpus` and `run_parallel` from here, so
the suite and the benchmark stress the worker in the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CELL = 'x = torch.arange({i}.0, {i} + 3.0)\nprint(x * 2)'


def write_lesson(folder: Path, cells: int) -> Path:
    body = ["---", "title: Stress", "id: stress", "---", "", "```python", "import torch", "```"]
    for i in range(cells - 1):
        body += ["", "```python", CELL.format(i=i), "```"]
    path = folder / "stress.en.md"
    path.write_text("\n".join(body) + "\n")
    return path


def command() -> list[str]:
    """The installed command beside this interpreter (as a learner runs it)."""
    script = Path(sys.executable).with_name("autograd-tutor")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "autograd_tutor.cli"]


@contextlib.contextmanager
def busy_cpus(count: int | None = None) -> Iterator[None]:
    """One spinning process per core (or `count`), ended when the block ends."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(count if count is not None else os.cpu_count() or 1)
    ]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


@dataclass
class Outcome:
    seconds: float
    records: int
    statuses: set[str]
    returncode: int | None  # None: it did not end before the deadline (a hang)
    stderr: str


def run_parallel(lesson: Path, parallel: int, deadline_s: float) -> list[Outcome]:
    """`parallel` runs of `lesson` at once; each gets `deadline_s` before it counts as hung."""
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [*command(), "run", str(lesson), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(parallel)
    ]
    outcomes = []
    for p in procs:
        left = max(deadline_s - (time.monotonic() - started), 0.1)
        try:
            out, err = p.communicate(timeout=left)
            code: int | None = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            code = None
        records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        outcomes.append(
            Outcome(
                seconds=time.monotonic() - started,
                records=len(records),
                statuses={r.get("status", "?") for r in records},
                returncode=code,
                stderr=err[-2000:],
            )
        )
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds per round")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-stress-"))
    try:
        lesson = write_lesson(folder, args.cells)
        with busy_cpus():
            single = run_parallel(lesson, 1, args.deadline)[0]
            slowest, hangs, bad = 0.0, 0, 0
            for round_no in range(1, args.rounds + 1):
                outcomes = run_parallel(lesson, args.parallel, args.deadline)
                for o in outcomes:
                    hangs += o.returncode is None
                    bad += o.returncode != 0 or o.records != args.cells
                slowest = max(slowest, *(o.seconds for o in outcomes))
                worst = max(o.seconds for o in outcomes)
                print(f"  round {round_no}: slowest {worst:.2f} s", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    cpus = os.cpu_count()
    print(
        f"stress ({args.parallel} parallel x {args.rounds} rounds, {args.cells} cells, "
        f"{cpus} busy loops on {cpus} cores): slowest run {slowest:.2f} s "
        f"(baseline: a single run on the same busy machine {single.seconds:.2f} s); "
        f"hangs {hangs}, runs with missing records {bad}; target: 0 hangs"
    )
    return 1 if hangs or bad else 0


if __name__ == "__main__":
    sys.exit(main())
