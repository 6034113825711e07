"""What the sandbox is asked for (SandboxConfig) and what it got (SandboxReport)."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The unprivileged uid/gid that root's cells are outside their user namespace ("nobody").
NOBODY = 65534
MiB = 1024**2
# Folders too wide to hand to a cell even when a lesson lives there: they hold other
# people's or other programs' files. The home and every folder that contains it are added.
TOO_BROAD = ("/", "/tmp", "/var/tmp", "/dev/shm", "/run", "/var/run", "/home", "/root")


@dataclass
class SandboxConfig:
    scratch: Path  # host folder: the cell's cwd only where there is no mount namespace
    read_paths: list[Path]  # extra read-only paths (the lesson's folder, the matplotlib cache)
    home: Path | None = None  # the app's home: never readable, nor any folder above it
    memory_bytes: int = 2 * 1024**3  # RLIMIT_DATA: the memory knob that works with torch
    cpu_seconds: int = 3600  # RLIMIT_CPU soft (hard = soft + 5)
    file_bytes: int = 64 * MiB  # RLIMIT_FSIZE
    open_files: int = 256  # RLIMIT_NOFILE
    processes: int = 64  # RLIMIT_NPROC (counts threads); pid_max for root, see limits.py
    scratch_bytes: int = 256 * MiB  # size of the scratch tmpfs (cwd, HOME, TMPDIR, /tmp)
    shm_bytes: int = 64 * MiB  # size of /dev/shm (multiprocessing, DataLoader workers)
    seccomp: bool = True  # the seccomp filter (seccomp_filter.py); off only for a baseline
    plan: Any = None  # the mount plan, made in the relay by enter_namespaces (mounts.py)

    def home_dir(self) -> Path:
        if self.home is not None:
            return Path(self.home).resolve()
        try:
            return Path(pwd.getpwuid(os.geteuid()).pw_dir).resolve()
        except KeyError:
            return Path("/")

    def too_broad(self) -> set[Path]:
        home = self.home_dir()
        return {Path(p) for p in TOO_BROAD} | {home, *home.parents}

    def granted_reads(self) -> list[Path]:
        """read_paths less any that would open the home, a folder above it, /tmp or /, and
        less those refused (refused_reads)."""
        broad, refused = self.too_broad(), self.refused_reads()
        return [
            Path(p)
            for p in self.read_paths
            if Path(p).resolve() not in broad and str(p) not in refused
        ]

    def refused_reads(self) -> dict[str, str]:
        """Read paths refused, with why: a symlink whose real path leaves the folder that
        holds it, or leads to that folder itself; any symlink in a folder never granted
        whole (`~/assets -> ~/.ssh`, or `-> /etc/ssh`, would otherwise be mounted as a
        lesson's assets); anything but a folder or a regular file (a FIFO, a socket). The
        mount is made of the real path without following any symlink (mounts.py), so a
        link swapped in after this check makes the copy fail, never escape."""
        refused, broad = {}, self.too_broad()
        for p in map(Path, self.read_paths):
            real, folder = os.path.realpath(p), os.path.realpath(p.parent)
            if not os.path.exists(real):
                continue  # nothing to mount (a lesson without assets)
            if not real.startswith(folder.rstrip("/") + "/"):
                refused[str(p)] = f"its real path {real} leaves {folder}"
            elif Path(folder) in broad and real != os.path.join(folder, p.name):
                refused[str(p)] = f"a symlink to {real}, in {folder}, which is never granted"
            elif not (os.path.isdir(real) or os.path.isfile(real)):
                refused[str(p)] = "neither a folder nor a regular file"
        return refused


@dataclass
class SandboxReport:
    active: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # protection -> why it is missing
    # Read paths asked for but not granted -> why (SandboxConfig.refused_reads): the
    # sandbox is whole, the lesson gets less; `autograd-tutor run` and the details say so.
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        return bool(self.active) and not self.missing

    # The one place that puts a report into words: `run`, `autograd-tutor sandbox` and the
    # app's status bar all say it the same way.

    def headline(self) -> str:
        """Short, for a status bar: "sandbox: full", or partial with what is missing."""
        if self.full:
            return "sandbox: full"
        if not self.active and not self.missing:
            return "sandbox: not applied"
        return "sandbox: partial (" + ", ".join(f"no {name}" for name in self.missing) + ")"

    def summary(self) -> str:
        """One line: what is on when full, else every missing protection and why."""
        if self.full:
            return f"sandbox: full ({', '.join(self.active)})"
        if not self.active and not self.missing:
            return "sandbox: not applied"
        reasons = "; ".join(f"no {name} ({why})" for name, why in self.missing.items())
        return f"sandbox: partial — {reasons}"

    def details(self) -> list[str]:
        """One line per protection: "on   name" or "off  name: why"."""
        return (
            [f"on   {name}" for name in self.active]
            + [f"off  {name}: {why}" for name, why in self.missing.items()]
            + [f"refused {path}: {why}" for path, why in self.refused.items()]
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"active": list(self.active), "missing": dict(self.missing)}
        if self.refused:
            out["refused"] = dict(self.refused)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SandboxReport:
        return cls(
            active=list(d.get("active", [])),
            missing=dict(d.get("missing", {})),
            refused=dict(d.get("refused", {})),
        )
