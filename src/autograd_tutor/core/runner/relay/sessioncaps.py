"""Caps for a session as a whole: memory and processes, whatever the cell forks.

RLIMIT_DATA binds one process and RLIMIT_NPROC one uid: a cell that forked five children
each filling 1.5 GB took the machine from 0.5 to 7.2 GB. The kernel's own mechanism is a
cgroup per session:

* cgroup v1 ``memory`` and ``pids`` controllers, where we may create a child of our own
  cgroup (root). Nested under our own cgroup, never beside it: whatever limit the admin or a
  container put on the app still holds for the sessions.
* cgroup v2, where our own cgroup is writable and can hand ``memory`` and ``pids`` to a
  child (a delegated subtree whose processes sit in a leaf).
* Otherwise (an ordinary user under v1, or a v2 cgroup that is not ours): a watchdog in the
  relay sums the session's memory every so often and kills the session over the cap.

The order matters (relay.run_relay, Relay.start_cell_process):

``setup``      in the relay while it is still privileged, before ``enter_namespaces``:
               create the cgroup, write the limits, open its ``cgroup.procs`` for writing.
               The kernel checks such a write against the credentials the file was *opened*
               with (Linux 5.16+), so the cell can join after root has become nobody.
``join``       in the cell process, before any learner code: it moves itself in, and every
               process it forks inherits the cgroup. The relay stays outside, so the OOM
               killer can never pick it, and it can always end the session.
``started``    in the relay after the fork: drop the held files; the watchdog's baseline.
``poll``       in the relay's loop: a cause when the session went over its memory cap.
``hit_memory`` when the cell process died: was it the memory cap?
``RelayWatch`` (cgroups.py) in the host: remove the cgroups of relays that are gone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd_tutor.core.runner.relay.sessiontree import session_memory
from autograd_tutor.core.runner.sandbox import SandboxConfig, SandboxReport
from autograd_tutor.core.runner.shared.cgroups import counter, make_session_dir, own_dir, why, write

RUNNING_EVERY = 0.1  # watchdog sample period while a cell runs (one smaps_rollup ~0.7 ms)
IDLE_EVERY = 1.0  # between cells: a background child may still be allocating
CGROUP_EVERY = 0.1  # cgroup mode: only the oom_kill counter is read (microseconds)
CPU_PERIOD_US = 100_000  # the CFS period the quota is a share of (the kernel's default)


def size_words(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"


def over_cap_cause(cap: int) -> str:
    return f"the session used more than {size_words(cap)} in all its processes"


# -- the session's caps -----------------------------------------------------------------------


@dataclass
class SessionCaps:
    memory_bytes: int
    processes: int
    mechanism: str = ""  # "cgroup v1", "cgroup v2" or "watchdog"
    dirs: list[Path] = field(default_factory=list)  # our session cgroups, to join
    join_fds: list[int] = field(default_factory=list)  # their cgroup.procs, held open
    oom_fd: int = -1  # memory.oom_control (v1) or memory.events (v2)
    oom_field: str = "oom_kill"
    pids_capped: bool = False
    cpu_percent: int = 100  # of one core: the session's CPU quota where a cgroup is had
    cpu_capped: bool = False
    cell: int = 0  # the cell process's pid, as the relay sees it
    baseline: int = 0  # watchdog: the cell's share of memory at the start (bytes)
    next_check: float = 0.0
    cause: str = ""  # set once the session went over its cap

    @classmethod
    def setup(
        cls, config: SandboxConfig, report: SandboxReport, settings: dict[str, Any]
    ) -> SessionCaps:
        """In the relay, before enter_namespaces. Settings (WorkerHost.new_session):
        `session_memory_bytes` (default: the per-process `memory_bytes`),
        `session_cgroup=0` to use the watchdog even where a cgroup could be had, and
        `session_caps=0` for none at all (the benchmark's baseline)."""
        memory = int(settings.get("session_memory_bytes") or config.memory_bytes)
        caps = cls(
            memory, config.processes, cpu_percent=int(settings.get("session_cpu_percent") or 100)
        )
        if settings.get("session_caps", 1) == 0:
            report.missing["session memory cap"] = "turned off for this session"
            return caps
        use_cgroup = settings.get("session_cgroup", 1) != 0
        reason = caps._cgroup() if use_cgroup else "cgroups turned off for this session"
        if not reason:
            size = size_words(caps.memory_bytes)
            report.active.append(f"session memory cap {size} ({caps.mechanism})")
            if caps.pids_capped:
                report.active.append(f"session process cap {caps.processes} ({caps.mechanism})")
            if caps.cpu_capped:
                cores = f"{caps.cpu_percent / 100:g} core{'s' * (caps.cpu_percent > 100)}"
                report.active.append(f"session CPU cap {cores} ({caps.mechanism})")
            return caps
        caps.close()  # whatever half of a cgroup was made (the host removes it)
        caps._use_watchdog(report, reason)
        return caps

    def _use_watchdog(self, report: SandboxReport, reason: str) -> None:
        self.mechanism = "watchdog"
        report.active[:] = [a for a in report.active if not a.startswith("session ")]
        # The process count needs no watchdog: the session's own pid namespace has its own
        # pid_max (sandbox._limit_pids), and RLIMIT_NPROC binds an ordinary user.
        size = size_words(self.memory_bytes)
        report.active.append(f"session memory cap {size} (watchdog; no cgroup: {reason})")

    def _cgroup(self) -> str:
        """Make and fill the session's cgroups; "" on success, else why not."""
        reasons = []
        v1_memory, unified = own_dir("memory"), own_dir("")
        if v1_memory is not None:
            reason = self._v1(v1_memory, own_dir("pids"))
            if not reason:
                return ""
            reasons.append(f"cgroup v1: {reason}")
            self.close()
        if unified is not None:
            reason = self._v2(unified)
            if not reason:
                return ""
            reasons.append(f"cgroup v2: {reason}")
        return "; ".join(reasons) or "no cgroup filesystem is mounted"

    def _v1(self, memory: Path, pids: Path | None) -> str:
        try:
            mem = make_session_dir(memory)
            self.dirs.append(mem)
            write(mem / "memory.limit_in_bytes", str(self.memory_bytes))
            if (mem / "memory.memsw.limit_in_bytes").exists():
                # memory + swap together: pushing pages out to swap frees nothing.
                write(mem / "memory.memsw.limit_in_bytes", str(self.memory_bytes))
            else:
                # No swap accounting (swapaccount=0): keep this cgroup's pages out of swap.
                write(mem / "memory.swappiness", "0")
            self.oom_fd = os.open(mem / "memory.oom_control", os.O_RDONLY | os.O_CLOEXEC)
            if pids is not None:  # else the pid namespace's own pid_max is the bound
                pid_dir = make_session_dir(pids)
                self.dirs.append(pid_dir)
                write(pid_dir / "pids.max", str(self.processes))
                self.pids_capped = True
            self._v1_cpu()
            self._hold_procs()
        except OSError as e:
            return why(e)
        self.mechanism = "cgroup v1"
        return ""

    def _v1_cpu(self) -> None:
        """A CPU quota where the v1 cpu controller is ours to use; without one the session
        is still capped in memory, and its strays are stopped between cells (relay.py)."""
        cpu = own_dir("cpu")
        if cpu is None:
            return
        with contextlib.suppress(OSError):  # the host sweeps a half-made cgroup
            cpu_dir = make_session_dir(cpu)
            write(cpu_dir / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            write(cpu_dir / "cpu.cfs_quota_us", str(self._quota_us()))
            self.dirs.append(cpu_dir)
            self.cpu_capped = True

    def _v2(self, own: Path) -> str:
        try:
            enabled = (own / "cgroup.subtree_control").read_text().split()
            if not {"memory", "pids"} <= set((own / "cgroup.controllers").read_text().split()):
                return "no memory and pids controllers to give"
            if not {"memory", "pids"} <= set(enabled):
                try:
                    write(own / "cgroup.subtree_control", "+memory +pids")
                except OSError as e:
                    if e.errno != errno.EBUSY:
                        raise
                    # Only leaves may hold processes once controllers are handed down.
                    return "our cgroup holds processes, so it cannot give controllers to a child"
            base = own / "autograd-tutor"
            base.mkdir(exist_ok=True)
            if not {"memory", "pids"} <= set((base / "cgroup.subtree_control").read_text().split()):
                write(base / "cgroup.subtree_control", "+memory +pids")
            for folder in (own, base):  # the CPU quota is a plus: never a reason to fail
                with contextlib.suppress(OSError):
                    write(folder / "cgroup.subtree_control", "+cpu")
            session = make_session_dir(own)
            self.dirs.append(session)
            write(session / "memory.max", str(self.memory_bytes))
            if (session / "memory.swap.max").exists():
                write(session / "memory.swap.max", "0")
            write(session / "memory.oom.group", "1")  # one OOM kill takes the whole session
            write(session / "pids.max", str(self.processes))
            self.pids_capped = True
            with contextlib.suppress(OSError):  # ENOENT: no cpu controller was given
                write(session / "cpu.max", f"{self._quota_us()} {CPU_PERIOD_US}")
                self.cpu_capped = True
            self.oom_fd = os.open(session / "memory.events", os.O_RDONLY | os.O_CLOEXEC)
            self._hold_procs()
        except OSError as e:
            return why(e)
        self.mechanism = "cgroup v2"
        return ""

    def _quota_us(self) -> int:
        return max(self.cpu_percent * CPU_PERIOD_US // 100, 1000)

    def _hold_procs(self) -> None:
        # Opened now, while privileged: the cell writes them after root has become nobody.
        for d in self.dirs:
            self.join_fds.append(os.open(d / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))

    # -- in the cell process --------------------------------------------------------------

    def join(self, report: SandboxReport) -> None:
        """The cell process moves itself into the session's cgroups (before learner code).

        Should the kernel refuse, the report says so and started() arms the watchdog: the
        session is capped either way, and the app stays usable."""
        try:
            for fd in self.join_fds:
                os.write(fd, b"0")
        except OSError as e:
            self._use_watchdog(report, f"joining the {self.mechanism} cgroup: {why(e)}")
        finally:
            for fd in self.join_fds:
                os.close(fd)
            self.join_fds.clear()

    # -- in the relay ---------------------------------------------------------------------

    def started(self, cell: int, report: SandboxReport) -> None:
        """After the cell process confined itself and sent `report`: the relay itself never
        joins; the watchdog (if the cell could not join) takes its baseline."""
        for fd in self.join_fds:
            os.close(fd)
        self.join_fds.clear()
        self.cell = cell
        if any(a.startswith("session memory cap") and "(watchdog" in a for a in report.active):
            self.mechanism = "watchdog"
        if self.mechanism == "watchdog":
            # The cell shares the warm host's pages; only what the session adds counts.
            self.baseline = session_memory(cell)[0]

    def due_in(self, running: bool) -> float | None:
        """Seconds until poll() has work, for the relay's select(); None: nothing to do."""
        if self.cause or not self.mechanism:
            return None
        if self.mechanism != "watchdog" and not running:
            return None  # the kernel enforces; the relay looks again when a cell ends
        return max(self.next_check - time.monotonic(), 0.0)

    def poll(self, running: bool, now: bool = False) -> str | None:
        """The cause, once the session went over its memory cap; else None. Rate-limited
        unless `now` (a cell just finished: its `done` must not hide an OOM kill)."""
        if self.cause:
            return self.cause
        t = time.monotonic()
        if not now and t < self.next_check:
            return None
        if self.mechanism == "watchdog":
            if now:
                return None  # each sample costs ~0.7 ms per process: the timer's job only
            self.next_check = t + (RUNNING_EVERY if running else IDLE_EVERY)
            used, _ = session_memory(self.cell)
            if used - self.baseline > self.memory_bytes:
                self.cause = (
                    f"{over_cap_cause(self.memory_bytes)} "
                    f"(the watchdog measured {size_words(used - self.baseline)})"
                )
        elif self.oom_fd >= 0:
            self.next_check = t + CGROUP_EVERY
            if self.oom_kills():
                self.cause = over_cap_cause(self.memory_bytes)
        return self.cause or None

    def oom_kills(self) -> int:
        try:
            return counter(self.oom_fd, self.oom_field) if self.oom_fd >= 0 else 0
        except OSError:
            return 0

    def hit_memory(self, exit_status: int | None) -> bool:
        """Whether the cell process's death was the memory cap (not a crash of its own)."""
        if self.cause:
            return True
        killed = exit_status is None or (
            os.WIFSIGNALED(exit_status) and os.WTERMSIG(exit_status) == signal.SIGKILL
        )
        if killed and self.oom_kills():
            self.cause = over_cap_cause(self.memory_bytes)
        return bool(self.cause)

    def close(self) -> None:
        for fd in [*self.join_fds, self.oom_fd]:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.join_fds.clear()
        self.oom_fd = -1
        # The relay cannot remove its cgroups (they may still hold the dying cell, and by
        # now it is unprivileged): the host sweeps them (sweep()).
