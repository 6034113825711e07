"""What a session leaves running or holding past its caps, against the real worker: no mocks.

Memory that is in no process's Pss (memfds held open, detached System V segments), processes
a cell leaves busy in the background between cells, and scratch folders a crashed app left.
As root the session's cgroup is in force by default; `session_cgroup=0` (and an ordinary
user) gets the relay's watchdog: both are tested.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograd_tutor.core.runner.client import WorkerHost
from autograd_tutor.core.runner.relay.sessiontree import session_tree
from autograd_tutor.core.runner.shared import cgroups, scratchroots

pytestmark = pytest.mark.slow

IS_ROOT = os.geteuid() == 0
CAP = 512 * 1024**2
# Twelve memfds of 64 MiB each (768 MiB), held open and never mapped, then a pause in which
# the watchdog (every 100 ms while a cell runs) must see them.
MEMFDS = """
import os, time
held = []
chunk = b"x" * (1 << 20)
for i in range(12):
    fd = os.memfd_create(f"m{i}")
    for _ in range(64):
        os.write(fd, chunk)
    held.append(fd)
time.sleep(3)
len(held)
"""
# The same in System V segments: each touched through a mapping, then detached (nattch 0).
SYSV = """
import ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
size = 64 << 20
for _ in range(12):
    sid = libc.shmget(0, ctypes.c_size_t(size), 0o1600)
    assert sid >= 0, ctypes.get_errno()
    addr = libc.shmat(sid, None, 0)
    ctypes.memset(addr, 1, size)
    libc.shmdt(ctypes.c_void_p(addr))
time.sleep(3)
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cgroup", [1, 0], ids=["default", "watchdog"])
@pytest.mark.parametrize("code", [MEMFDS, SYSV], ids=["memfds-held-open", "detached-sysv"])
def test_memory_no_process_maps_counts_against_the_cap(
    worker_host: WorkerHost, cgroup: int, code: str
) -> None:
    """memfds held open and detached System V segments are in no process's Pss: counted."""
    session = worker_host.new_session(session_memory_bytes=CAP, session_cgroup=cgroup, spare=False)
    try:
        result = session.run(code, timeout=60)
    finally:
        session.close()
    assert result.status == "memory", result


# -- processes left running between cells -----------------------------------------------------

BUSY = """
import os
for _ in range(4):
    if os.fork() == 0:
        while True:
            pass
"""


def states(cell: int) -> dict[int, tuple[str, int]]:
    """The cell process's descendants (host pids): (state letter, CPU ticks so far)."""
    found = {}
    for pid in session_tree(cell)[1:]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (fields[0], int(fields[11]) + int(fields[12]))
    return found


def stopped_soon(cell: int) -> dict[int, tuple[str, int]]:
    """states() once every descendant is stopped. A SIGSTOP takes effect when its process
    next runs: on a loaded machine, or under the session's CPU quota, that may be a moment."""
    deadline = time.monotonic() + 10
    while True:
        found = states(cell)
        if all(s == "T" for s, _ in found.values()) or time.monotonic() > deadline:
            assert all(s == "T" for s, _ in found.values()), found
            return found
        time.sleep(0.05)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cgroup", [1, 0], ids=["default", "watchdog"])
def test_busy_background_processes_are_stopped_between_cells(
    worker_host: WorkerHost, cgroup: int
) -> None:
    session = worker_host.new_session(session_cgroup=cgroup, spare=False)
    try:
        assert "background processes stopped between cells" in session.sandbox["active"]
        if cgroup and cgroups.own_dir("cpu") is not None and IS_ROOT:
            assert "session CPU cap 1 core (cgroup v1)" in session.sandbox["active"], (
                session.sandbox
            )
            relay = int(Path(f"/proc/{session.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            quota = cgroups.own_dir("cpu") / cgroups.BASE / f"session-{relay}" / "cpu.cfs_quota_us"
            assert quota.read_text().strip() == "100000"
        assert session.run(BUSY, timeout=30).status == "ok"
        before = stopped_soon(session.pid)
        assert len(before) == 4, before
        time.sleep(1.0)
        after = states(session.pid)
        assert all(after[p][1] == before[p][1] for p in before), (before, after)  # no CPU
        # The next cell continues them while it runs, and they stop again after it.
        running = session.run(
            "import os, time\ntime.sleep(0.5)\n"
            "sorted(open(f'/proc/{p}/stat').read().split(')')[1].split()[0]"
            " for p in os.listdir('/proc') if p.isdigit() and int(p) > 1)",
            timeout=30,
        )
        assert running.status == "ok" and "T" not in running.value, running
        assert len(stopped_soon(session.pid)) == 4
    finally:
        session.close()


@pytest.mark.timeout(120)
def test_a_pool_kept_between_cells_still_works(worker_host: WorkerHost) -> None:
    session = worker_host.new_session(spare=False)
    try:
        made = session.run("import multiprocessing as mp\npool = mp.get_context('fork').Pool(2)")
        assert made.status == "ok", made
        assert len(stopped_soon(session.pid)) >= 2  # its workers
        used = session.run("pool.map(abs, [-1, -2, -3])", timeout=30)
        assert used.value == "[1, 2, 3]", used
        assert session.run("pool.terminate(); pool.join()", timeout=30).status == "ok"
    finally:
        session.close()


# -- scratch folders a crashed app left -------------------------------------------------------

KILLED_APP = """
import os, signal, sys
from autograd_tutor.core.runner.client import WorkerHost
host = WorkerHost()
host.start()
print(host._scratch_root, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.timeout(60)
def test_scratch_folders_of_a_killed_app_are_swept_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A temporary folder of the test's own: the sweep never meets other apps' folders here.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_APP], capture_output=True, text=True, timeout=30, env=env
    )
    left = Path(killed.stdout.strip())
    assert killed.returncode == -9 and left.parent == tmp_path, killed
    assert left.is_dir()  # what a crash leaves
    (left / "session-x").mkdir(exist_ok=True)
    empty = tmp_path / "autograd-tutor-old"  # an older version's, or the probe's: unlocked
    young = tmp_path / "autograd-tutor-young"
    full = tmp_path / "autograd-tutor-full"
    for d in (empty, young, full):
        d.mkdir()
    (full / "file").write_text("kept: no lock says its app is gone")
    held, lock = scratchroots.make()  # a live app's: its lock is held
    past = time.time() - scratchroots.STALE_SECONDS - 5
    for d in (left, empty, full, Path(held)):
        os.utime(d, (past, past))
    host = WorkerHost()
    try:
        host.start()
        assert not left.exists() and not empty.exists()
        assert young.is_dir() and full.is_dir() and Path(held).is_dir()
    finally:
        host.close()
        scratchroots.release(held, lock)


@pytest.mark.timeout(120)
def test_sandbox_command_says_which_cpu_measures_are_in_force() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "autograd_tutor", "sandbox"],
        capture_output=True, text=True, timeout=110,
    ).stdout  # fmt: skip
    assert "on   background processes stopped between cells" in out, out
    memory = [line for line in out.splitlines() if "session memory cap" in line]
    if memory and "(cgroup" in memory[0] and cgroups.own_dir("cpu") is not None:
        assert "on   session CPU cap 1 core (cgroup" in out, out
