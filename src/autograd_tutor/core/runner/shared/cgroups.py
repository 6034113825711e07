"""Finding, making and removing the sessions' cgroups (see sessioncaps.py for why).

Session cgroups live at ``<our own cgroup>/autograd-tutor/session-<relay pid>`` in each
hierarchy used (v1 ``memory`` and ``pids``, or v2). Nested under our own cgroup, never beside
it: whatever limit an admin or a container put on the app still holds for its sessions.

A relay cannot remove its own cgroup: it may still hold the dying cell, and by then the relay
is unprivileged (root is nobody in its user namespace). The host does, through `RelayWatch`:
a pidfd per relay tells it when one is gone; at start it sweeps what a killed app left.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from pathlib import Path

BASE = "autograd-tutor"
STALE_SECONDS = 10.0  # an unknown relay's empty cgroup this old is a leftover, not a setup
RETRY_SECONDS = 2.0  # a gone relay's cgroup still held a process: look again this much later


def _own_cgroups() -> dict[str, str]:
    """controller (or "" for v2) -> our path in that hierarchy, from /proc/self/cgroup."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            own[c] = path
    return own


def _mounts() -> dict[str, tuple[str, str]]:
    """controller (or "" for v2) -> (root of the mount in the hierarchy, mount point)."""
    found: dict[str, tuple[str, str]] = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fstype, _, options = (right.split() + ["", "", ""])[:3]
        fields = left.split()
        if fstype == "cgroup2":
            found.setdefault("", (fields[3], fields[4]))
        elif fstype == "cgroup":
            for opt in options.split(","):
                found.setdefault(opt, (fields[3], fields[4]))
    return found


def own_dir(controller: str) -> Path | None:
    """Our own cgroup's folder for a v1 controller (or "" for v2); None where not mounted."""
    try:
        own, mounts = _own_cgroups(), _mounts()
    except OSError:
        return None
    if controller not in own or controller not in mounts:
        return None
    root, mount_point = mounts[controller]
    rel = os.path.relpath(own[controller], root)
    if rel.startswith(".."):
        return None  # our cgroup is outside what this mount shows (a cgroup namespace)
    return Path(mount_point) / rel


def why(e: OSError) -> str:
    return f"{errno.errorcode.get(e.errno or 0, e.errno)} ({os.strerror(e.errno or 0)})"


def write(path: Path, text: str) -> None:
    with open(path, "w") as f:  # errors surface here, at close, not in a finaliser
        f.write(text)


def counter(fd: int, name: str) -> int:
    """A `name value` line of a cgroup file (memory.oom_control, memory.events)."""
    for line in os.pread(fd, 4096, 0).decode().splitlines():
        key, _, value = line.partition(" ")
        if key == name:
            return int(value)
    return 0


def make_session_dir(parent: Path) -> Path:
    """`parent/autograd-tutor/session-<our pid>`, made (or an empty leftover, reused)."""
    path = parent / BASE / f"session-{os.getpid()}"
    for _ in range(3):  # the host may remove an empty BASE between our two mkdirs
        path.parent.mkdir(exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            # Left by a relay that had our pid: reuse it if empty, never share a live one.
            if (path / "cgroup.procs").read_text().strip():
                raise OSError(errno.EBUSY, f"{path} is in use") from None
        except FileNotFoundError:
            continue
        return path
    raise OSError(errno.ENOENT, f"{path.parent} keeps disappearing")


def sweep(min_age: float = STALE_SECONDS, ours: frozenset[int] = frozenset()) -> int:
    """Remove session cgroups whose relay is gone; how many such were left for later.

    Those of `ours` (relays this host saw end) go at once; others only once `min_age` old,
    so that a relay of another app in another pid namespace (whose pid we cannot see) is
    never caught between its mkdir and its cell joining. The kernel refuses to remove a
    cgroup that holds a process (EBUSY): a live session is never touched.
    """
    left = 0
    for controller in ("memory", "pids", "cpu", ""):
        own = own_dir(controller)
        if own is None or not (own / BASE).is_dir():
            continue
        for d in (own / BASE).glob("session-*"):
            try:
                pid = int(d.name.removeprefix("session-"))
                if _alive(pid):
                    continue
                if pid not in ours and time.time() - d.stat().st_mtime < min_age:
                    left += 1
                    continue
                d.rmdir()
            except OSError as e:
                left += e.errno == errno.EBUSY
            except ValueError:
                continue
        # An empty BASE goes too: a leftover folder would keep whoever manages our own
        # cgroup (systemd, a container runtime) from removing it. ENOTEMPTY/EBUSY: in use.
        with contextlib.suppress(OSError):
            (own / BASE).rmdir()
    return left


def sweep_until(relays: frozenset[int], seconds: float) -> None:
    """Sweep, and again while the sessions of these ending relays are still emptying."""
    deadline = time.monotonic() + seconds
    while sweep(ours=relays) and time.monotonic() < deadline:
        time.sleep(0.01)  # a killed relay's cell leaves its cgroup a moment later


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process holds that pid now: not ours to judge
    # A relay whose host was killed is reparented to pid 1, which in a container may be slow
    # to reap it: a zombie has ended all the same.
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


class RelayWatch:
    """In the host: when a relay it forked is gone, remove that session's cgroups.

    A pidfd per relay is readable once the relay exited, so the host's select() wakes for it
    and costs nothing in between. Without pidfds (Linux < 5.3) it looks every few seconds.
    It starts with a sweep of what an app killed earlier left behind.
    """

    def __init__(self) -> None:
        self.fds: dict[int, int] = {}  # pidfd -> relay pid
        self.unwatched: set[int] = set()  # relays without a pidfd: looked at by polling
        self.gone: set[int] = set()  # relays that ended; their cgroups are removed next
        self.sweep_at: float | None = time.monotonic()

    def add(self, pid: int) -> None:
        try:
            self.fds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            self.gone.add(pid)
        except (OSError, AttributeError):
            self.unwatched.add(pid)
            self.sweep_at = self.sweep_at or time.monotonic() + RETRY_SECONDS

    def timeout(self) -> float | None:
        """Seconds until a sweep is due without any pidfd waking us; None: never."""
        if self.gone:
            return 0.0
        return None if self.sweep_at is None else max(self.sweep_at - time.monotonic(), 0.0)

    def handle(self, ready: list[int]) -> None:
        for fd in [fd for fd in ready if fd in self.fds]:
            self.gone.add(self.fds.pop(fd))
            with contextlib.suppress(OSError):
                os.close(fd)
        if not self.gone and (self.sweep_at is None or time.monotonic() < self.sweep_at):
            return
        ended = {pid for pid in self.unwatched if not _alive(pid)}
        self.unwatched -= ended
        left = sweep(ours=frozenset(self.gone | ended))
        self.gone.clear()
        # Look again while something is left: a relay waits up to 2 s for its cell (one
        # stuck in the kernel may take longer), and another app's leftovers age.
        again = left or self.unwatched
        self.sweep_at = time.monotonic() + RETRY_SECONDS if again else None

    def close(self, seconds: float) -> None:
        """The app is gone: end every relay now and remove their cgroups, within `seconds`.

        Relays would die with the host anyway (PR_SET_PDEATHSIG), but then nobody would be
        left to remove their cgroups until the next start."""
        for fd in self.fds:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
        sweep_until(frozenset(self.fds.values()) | self.gone | self.unwatched, seconds)
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds.clear()
