"""The session's processes as the relay sees them (host pids): what they hold, and stopping
the ones a cell left running in the background.

The cell process is pid 1 of the session's pid namespace: every process of the session is
its descendant (an orphan is re-parented to it), found through /proc/PID/task/*/children.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def session_tree(cell: int) -> list[int]:
    """The cell process and all its descendants (host pids), via /proc/PID/task/*/children."""
    found, todo = [], [cell]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError):
                    todo += map(int, Path(f"/proc/{pid}/task/{task}/children").read_bytes().split())
        except OSError:
            continue  # it exited meanwhile
    return found


def session_memory(cell: int) -> tuple[int, int]:
    """(bytes, processes): the proportional set size (Pss + SwapPss) of the whole tree.

    Pss counts a page shared by k processes as 1/k in each: memory a cell allocated and then
    forked is counted once in all (Private_* would count it nowhere), and the warm host's
    pages only by the session's share of them, which started() takes as the baseline.
    """
    total, pids = 0, session_tree(cell)
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_bytes()
        except OSError:
            total += _anonymous_rss(pid)
            continue
        for line in text.splitlines():
            if line.startswith((b"Pss:", b"SwapPss:")):
                total += int(line.split()[1]) * 1024
    return total + held_shared_memory(pids), len(pids)


def held_shared_memory(pids: list[int]) -> int:
    """Bytes of memfds the session's processes hold open, each counted once however many
    processes share it (by inode), plus its System V segments that no process attached.

    Neither is in any Pss until mapped: 45 memfds of 64 MiB once held 2.9 GB past a 2 GB
    cap. A memfd that is also mapped is counted here in full and in Pss for what is mapped:
    over- rather than under-counted. The session's other tmpfs (/dev/shm, the scratch) are
    bounded by their own size. The relay shares the session's IPC namespace, so
    /proc/sysvipc/shm lists the session's segments and no one else's.
    """
    seen: set[tuple[int, int]] = set()
    total = 0
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue  # gone, or non-dumpable: its fds are hidden (its statm counts its maps)
        for fd in fds:
            link = f"/proc/{pid}/fd/{fd}"
            try:
                if not os.readlink(link).startswith("/memfd:"):
                    continue
                st = os.stat(link)
            except OSError:
                continue  # closed meanwhile
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512  # pages written, not the size a truncate claims
    return total + _detached_sysv_segments()


def _detached_sysv_segments() -> int:
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return 0
    total = 0
    for row in rows:
        # key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap
        cols = row.split()
        if len(cols) >= 16 and cols[6] == "0":
            total += int(cols[14]) + int(cols[15])
    return total


def _anonymous_rss(pid: int) -> int:
    """A process that made itself non-dumpable (prctl) hides its smaps_rollup from us, but
    not its statm: resident minus file-backed pages. That counts the pages it shares with
    the warm host in full, so such a process is over- rather than under-counted."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_bytes().split()
    except OSError:
        return 0  # it exited meanwhile
    return (int(fields[1]) - int(fields[2])) * os.sysconf("SC_PAGE_SIZE")


# -- stray processes between cells ----------------------------------------------------------


class Strays:
    """Between cells, every process of the session but the cell process itself is stopped
    (SIGSTOP), and continued (SIGCONT) when the next cell starts.

    Eight busy loops a cell left in the background kept both cores of a machine at 100%
    between cells: the learner's next cell ran five times slower, and in a class everyone's
    did. Stopped, not killed: a notebook keeps a `multiprocessing.Pool` of one cell for the
    next, and it works on as before. Threads of the cell process itself cannot be stopped
    (it answers `inspect` and `graph` between cells): a session's CPU quota, where a cgroup
    is had, bounds those (sessioncaps.py).
    """

    def __init__(self) -> None:
        self.cell = 0
        self.stopped: set[int] = set()

    def stop(self) -> int:
        """Stop the cell process's descendants; how many were running."""
        if not self.cell:
            return 0
        found = 0
        for pid in session_tree(self.cell)[1:]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
                found += pid not in self.stopped
                self.stopped.add(pid)
        return found

    def resume(self) -> None:
        """Continue those it stopped that are still the session's (never a reused pid)."""
        if self.stopped:
            for pid in set(session_tree(self.cell)[1:]) & self.stopped:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGCONT)
        self.stopped.clear()
