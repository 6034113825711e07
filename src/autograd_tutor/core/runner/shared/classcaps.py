"""A class's limits: what the shared host grants each learner and the class as a whole.

Pure data, used on both sides of the class socket: `serve` builds it from its options and
hands it to the host (JSON on the command line); the host enforces it; the learners' apps
show its words in the sandbox details."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields

MiB = 1024**2
# A learner's key names a folder (progress, scratch) and travels in URLs: nothing else.
LEARNER_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
ENV_SOCKET = "AUTOGRAD_TUTOR_CLASS_SOCKET"  # the learner app's way to the shared host
ENV_LEARNER = "AUTOGRAD_TUTOR_LEARNER"


@dataclass(frozen=True)
class ClassCaps:
    learner_tabs: int = 3  # app processes (browser tabs) per learner at once
    class_tabs: int = 60  # app processes in the whole class
    learner_sessions: int = 6  # live sessions per learner (3 lessons, a spare, a probe...)
    class_sessions: int = 100  # live sessions in the whole class
    session_memory_mb: int = 512  # each session, all its processes together
    session_processes: int = 32  # tasks per session (threads count)
    cpu_seconds: int = 300  # CPU time per session's cell process (RLIMIT_CPU)
    cell_seconds: float = 30.0  # wall clock per cell
    reserve_mb: int = 512  # new sessions are refused while the machine has less available

    def describe(self) -> list[str]:
        """The limits in words: `serve --help`'s epilogue and the app's sandbox details."""
        return [
            f"class: at most {self.learner_tabs} open tabs per learner, {self.class_tabs}"
            " in the class",
            f"class: at most {self.learner_sessions} live sessions per learner,"
            f" {self.class_sessions} in the class",
            f"class: {self.session_memory_mb} MB of memory and {self.session_processes}"
            f" processes per session, {self.cpu_seconds} s of CPU per session,"
            f" {self.cell_seconds:g} s per cell",
            f"class: new sessions refused while under {self.reserve_mb} MB are available",
        ]

    def settings(self, asked: dict) -> dict:
        """A learner app's session settings with the class's caps put over them: an app may
        ask for less, never for more, never for a scratch folder of its choosing, and never
        to go without a protection (the benchmark's switches: session_caps, seccomp)."""
        dropped = ("scratch", "session_caps", "seccomp")
        settings = {k: v for k, v in asked.items() if k not in dropped}
        caps = {
            "session_memory_bytes": self.session_memory_mb * MiB,
            "memory_bytes": self.session_memory_mb * MiB,
            "processes": self.session_processes,
            "cpu_seconds": self.cpu_seconds,
        }
        for key, cap in caps.items():
            value = settings.get(key)
            settings[key] = min(int(value), cap) if isinstance(value, int) and value > 0 else cap
        return settings

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ClassCaps:
        data = json.loads(text)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
