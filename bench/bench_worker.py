"""Worker benchmark: each figure beside a baseline measured in the same run.

    .venv/bin/python bench/bench_worker.py [--quick]

Targets (docs: issue "A sandboxed, warm PyTorch worker"):
  fresh session <= 10 ms median with the spare ready, <= 50 ms cold (issue 10); trivial round trip <= 1 ms and >= 4x faster than a
  Jupyter kernel; <= 20 MB private memory per extra live session; `run` adds <= 5 ms per
  cell; first cell's result <= 0.3 s after a bare `import torch` would have finished.
  With the seccomp filter (issue "Sandbox III"): cold session <= 50 ms and the trivial
  round trip unchanged, each beside the same figure without the filter.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograd_tutor.core.runner.client import WorkerHost

PY = sys.executable
WARM_UP_QUIET = 8.0  # seconds of quiet in which the host finishes its idle warm-up
rows: list[tuple[str, str, str, str, str]] = []


def median_of(fn, n: int) -> float:
    return statistics.median(fn() for _ in range(n))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def row(name: str, ours: str, baseline: str, ratio: str, target: str) -> None:
    rows.append((name, ours, baseline, ratio, target))
    print(f"  {name}: {ours} (baseline {baseline}; {ratio}; target {target})", flush=True)


def bare_import_torch() -> float:
    return timed(lambda: subprocess.run([PY, "-c", "import torch"], check=True))


def first_result() -> float:
    def go() -> None:
        with WorkerHost() as host:
            session = host.new_session()
            session.run("1 + 1")
            session.close()

    return timed(go)


def jupyter_round_trip(n: int, code: str = "1") -> float | None:
    """Median round trip of `code` in a Jupyter kernel, or None without jupyter_client."""
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        return None
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive(code, timeout=30)
        samples = [
            timed(lambda: kc.execute_interactive(code, timeout=30, output_hook=lambda m: None))
            for _ in range(n)
        ]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return statistics.median(samples)


def private_mb(pid: int) -> float:
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total / 1024


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def run_lesson_seconds(cells: int) -> float:
    text = "---\ntitle: bench\n---\n" + "".join(
        f"```python\nx{i} = {i}\n```\n\n" for i in range(cells)
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.md"
        path.write_text(text)
        cli = [PY, "-m", "autograd_tutor", "run", str(path), "--json"]
        return median_of(
            lambda: timed(lambda: subprocess.run(cli, check=True, capture_output=True)), 3
        )


def interleaved(sessions: dict, n: int) -> dict[str, list[float]]:
    """Trivial round trips of each session in turn, `n` rounds, so the machine's noise falls
    on all alike; each session warmed by one run first."""
    samples: dict[str, list[float]] = {name: [] for name in sessions}
    for s in sessions.values():
        s.run("1")
    for _ in range(n):
        for name, s in sessions.items():
            samples[name].append(timed(lambda s=s: s.run("1")))
    return samples


def session_cap_round_trips(host: WorkerHost, n: int) -> None:
    """The trivial round trip under each session cap mechanism vs no cap, interleaved so
    that the machine's noise falls on all alike (sessioncaps.py)."""
    sessions = {
        "none": host.new_session(session_caps=0, spare=False),
        "default": host.new_session(spare=False),
        "watchdog": host.new_session(session_cgroup=0, spare=False),
    }
    samples = interleaved(sessions, n)
    base = statistics.median(samples["none"])
    for name in ("default", "watchdog"):
        cap = next(a for a in sessions[name].sandbox["active"] if a.startswith("session memory"))
        mechanism = cap.split("(", 1)[1].split(";")[0].rstrip(")")
        ours = statistics.median(samples[name])
        row(
            f"trivial round trip, session cap ({mechanism})",
            f"{ours * 1e3:.3f} ms",
            f"no session cap {base * 1e3:.3f} ms",
            f"{(ours - base) * 1e6:+.0f} us",
            "nothing measurable",
        )
    for s in sessions.values():
        s.close()


def seccomp_round_trips(host: WorkerHost, n: int) -> None:
    """The trivial round trip with the seccomp filter vs without, interleaved."""
    sessions = {"filter": host.new_session(spare=False),
                "none": host.new_session(seccomp=0, spare=False)}  # fmt: skip
    samples = interleaved(sessions, n)
    ours, base = (statistics.median(samples[k]) for k in ("filter", "none"))
    row(
        "trivial round trip, seccomp filter",
        f"{ours * 1e3:.3f} ms",
        f"no filter {base * 1e3:.3f} ms",
        f"{(ours - base) * 1e6:+.0f} us",
        "unchanged",
    )
    for s in sessions.values():
        s.close()


def fresh_session(pool: WorkerHost, **settings: int) -> float:
    def go() -> None:
        s = pool.new_session(**settings)
        s.run("1")
        s.close()

    elapsed = timed(go)
    time.sleep(0.1)  # a learner does not restart ten times a second: let the spare refill
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    quick = parser.parse_args().quick
    reps = 3 if quick else 5
    print("measuring (this takes a minute)…")

    bare = median_of(bare_import_torch, reps)
    first = median_of(first_result, reps)
    row(
        "start to first cell result",
        f"{first:.3f} s",
        f"bare `import torch` {bare:.3f} s",
        f"+{first - bare:.3f} s",
        "<= +0.300 s",
    )

    with WorkerHost() as host:
        host.wait_ready()
        session = host.new_session()
        session.run("1")
        ours = median_of(lambda: timed(lambda: session.run("1")), 100 if quick else 500)
        kernel = jupyter_round_trip(50 if quick else 200)
        fresh_py = median_of(
            lambda: timed(lambda: subprocess.run([PY, "-c", "1"], check=True)), reps
        )
        if kernel is not None:
            row(
                "trivial cell round trip",
                f"{ours * 1e3:.3f} ms",
                f"Jupyter kernel {kernel * 1e3:.3f} ms",
                f"{kernel / ours:.1f}x faster",
                "<= 1 ms and >= 4x",
            )
        else:
            row(
                "trivial cell round trip",
                f"{ours * 1e3:.3f} ms",
                "Jupyter kernel: not installed",
                "-",
                "<= 1 ms",
            )
        session_cap_round_trips(host, 100 if quick else 500)
        seccomp_round_trips(host, 100 if quick else 500)
        row(
            "trivial cell vs fresh interpreter",
            f"{ours * 1e3:.3f} ms",
            f"`python -c 1` {fresh_py * 1e3:.1f} ms",
            f"{fresh_py / ours:.0f}x faster",
            "-",
        )

        # A learner restarts while reading, seconds after the app started: by then the host
        # has done its idle warm-up (cell/warmup.py, one import per quiet second) and every
        # spare it forks has the slow imports. Give it that quiet time once.
        new_session_now = host.new_session()
        new_session_now.close()
        time.sleep(WARM_UP_QUIET)
        fresh = median_of(lambda: fresh_session(host), 10 if quick else 30)
        row(
            "fresh session + first cell (spare ready)",
            f"{fresh * 1e3:.1f} ms",
            f"spawn + import torch {bare * 1e3:.0f} ms",
            f"{bare / fresh:.0f}x faster",
            "<= 10 ms",
        )
        with WorkerHost(keep_spare=False) as cold_host:
            cold_host.wait_ready()
            # With and without the seccomp filter, interleaved: the machine's noise on both.
            cold_samples: dict[int, list[float]] = {1: [], 0: []}
            for _ in range(10 if quick else 30):
                for filtered, samples in cold_samples.items():
                    samples.append(fresh_session(cold_host, seccomp=filtered))
            cold, unfiltered = (statistics.median(cold_samples[k]) for k in (1, 0))
        row(
            "fresh session + first cell (cold fork)",
            f"{cold * 1e3:.1f} ms",
            f"spawn + import torch {bare * 1e3:.0f} ms",
            f"{bare / cold:.0f}x faster",
            "<= 50 ms",
        )
        row(
            "cold fork, seccomp filter",
            f"{cold * 1e3:.1f} ms",
            f"no filter {unfiltered * 1e3:.1f} ms",
            f"{(cold - unfiltered) * 1e3:+.1f} ms",
            "<= 50 ms",
        )

        extra = [host.new_session() for _ in range(10)]
        for s in extra:
            s.run("import torch\nx = torch.ones(3, requires_grad=True)\n(x * 2).sum().backward()")
        per = statistics.median(private_mb(s.pid) + private_mb(parent_of(s.pid)) for s in extra)
        row(
            "private memory per extra live session",
            f"{per:.1f} MB",
            "a new interpreter with torch: ~208 MB RSS",
            f"{208 / per:.0f}x less",
            "<= 20 MB",
        )
        for s in extra + [session]:
            s.close()

    one, many = run_lesson_seconds(1), run_lesson_seconds(200)
    row(
        "`run`: 200 cells vs 1 cell",
        f"{many:.3f} s",
        f"1 cell {one:.3f} s",
        f"+{(many - one) / 199 * 1e3:.2f} ms per cell",
        "<= 5 ms per cell, <= +1 s",
    )

    print("\n| figure | ours | baseline (same run) | ratio | target |\n|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
