"""`serve`'s watch over its class: the shared host kept alive, and a status line for the teacher.

A class's one warm host can die (killed by the OOM killer, by an administrator, by a bug).
Sessions that were running die with it; the apps of the class then get a fixed sentence in
their learners' language ("restarting: run the cell again in a few seconds") and connect to
the new host at their next cell. Every `CHECK_SECONDS` the watch asks whether the host still
runs and, if not, starts a new one on the same socket (the torch import: a few seconds).

The teacher's terminal shows a line when something changes, and at most every
`STATUS_SECONDS` otherwise: learners online, open tabs, live sessions, the machine's available
memory, and how often the host was replaced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from autograd_tutor.core.runner.client.classroom import SharedHost
from autograd_tutor.core.runner.client.session import WorkerError

CHECK_SECONDS = 1.0
STATUS_SECONDS = 60.0


@dataclass(frozen=True)
class ClassStatus:
    learners: int
    tabs: int
    sessions: int
    available_mb: int
    restarts: int

    def line(self) -> str:
        return (
            f"autograd-tutor serve: {self.learners} learners online, {self.tabs} tabs,"
            f" {self.sessions} sessions, {self.available_mb} MB available,"
            f" worker replaced {self.restarts} times"
        )


def sessions_of(pid: int | None) -> int:
    """The host's live sessions: its children (one relay each)."""
    if pid is None:
        return 0
    try:
        return len(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return 0


def available_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class ClassWatch:
    """Supervises `shared` and reports the class through `say` (the server's console)."""

    def __init__(
        self, shared: SharedHost, tabs: Mapping[str, int], say: Callable[[str], None]
    ) -> None:
        self.shared, self.tabs, self.say = shared, tabs, say
        self.restarts = 0
        self._shown: ClassStatus | None = None
        self._shown_at = 0.0

    def status(self) -> ClassStatus:
        open_tabs = {key: n for key, n in self.tabs.items() if n > 0}
        return ClassStatus(
            learners=len(open_tabs),
            tabs=sum(open_tabs.values()),
            sessions=sessions_of(self.shared.pid),
            available_mb=available_mb(),
            restarts=self.restarts,
        )

    async def run(self) -> None:
        """Forever (the server cancels it): check the host, replace it, report."""
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            if not self.shared.alive():
                await self.replace()
            self.report()

    async def replace(self) -> None:
        self.say("autograd-tutor serve: the class's worker died: starting a new one")
        started = time.monotonic()
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.shared.replace)
        except WorkerError as exc:
            self.say(f"autograd-tutor serve: the new worker did not start ({exc}): trying again")
            return
        self.restarts += 1
        seconds = time.monotonic() - started
        self.say(f"autograd-tutor serve: a new worker is ready ({seconds:.1f} s)")

    def report(self) -> None:
        now = self.status()
        shown = self._shown
        changed = shown is None or (now.learners, now.tabs, now.restarts) != (
            shown.learners,
            shown.tabs,
            shown.restarts,
        )
        if changed or time.monotonic() - self._shown_at >= STATUS_SECONDS:
            self.say(now.line())
            self._shown, self._shown_at = now, time.monotonic()
