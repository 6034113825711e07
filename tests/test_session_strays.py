"""What a session leaves running or holding past its caps, against the real worker: no mocks.

Memory that is in no process's Pss (memfds held open, detached System V segments), processes
a cell leaves busy in the background between cells, and scratch folders a crashed app left.
As root the session's cgroup is in force by default; `session_cgroup=0` (and an ordinary
user) gets the relay's watchdog: both are tested.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from pathlib import Path

import pytest

from autograd_tutor.core.runner.client import WorkerHost


pytestmark = pytest.mark.slow

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
def test_memfds_held_open_count_against_the_cap(worker_host: WorkerHost, cgroup: int) -> None:
    session = worker_host.new_session(session_memory_bytes=CAP, session_cgroup=cgroup, spare=False)
    try:
        result = session.run(MEMFDS, timeout=60)
    finally:
        session.close()
    assert result.status == "memory", result


@pytest.mark.timeout(120)
def test_detached_shared_memory_counts_against_the_cap(worker_host: WorkerHost) -> None:
    session = worker_host.new_session(session_memory_bytes=CAP, session_cgroup=0, spare=False)
    try:
        result = session.run(SYSV, timeout=60)
    finally:
        session.close()
    assert result.status == "memory", result
