"""In the cell process: a minimal environment, and the app's own gone from its memory too.

The warm host inherits the app's environment (its PATH, the virtual environment, the
scratch root's host path). A cell needs none of it: it gets the locale, matplotlib's
settings, ``PATH=/usr/bin:/bin``, and its scratch as ``HOME`` and ``TMPDIR``. Clearing
``os.environ`` is not enough: ``/proc/self/environ`` shows the block the host was started
with, which every fork keeps a copy of; the cell zeroes its copy (the C library's
environment no longer points into it once cleared).
"""

from __future__ import annotations

import ctypes
import os

from autograd_tutor.core.runner.sandbox.kernel import libc
from autograd_tutor.core.runner.shared.sandbox_config import SandboxReport

# What a cell keeps: the locale (text encoding), matplotlib's backend and cache, no .pyc
# files written (the Python install is read-only anyway).
KEPT = ("LANG", "LC_ALL", "LC_CTYPE", "MPLBACKEND", "MPLCONFIGDIR", "PYTHONDONTWRITEBYTECODE")
PATH = "/usr/bin:/bin"


def minimal(scratch: str, report: SandboxReport) -> None:
    kept = {name: os.environ[name] for name in KEPT if name in os.environ}
    os.environ.clear()  # unsetenv for each
    libc.clearenv()  # and whatever C code put there without Python seeing it
    os.environ.update(kept, PATH=PATH, HOME=scratch, TMPDIR=scratch)
    report.active.append("minimal environment")
    if reason := _erase_initial_block():
        report.missing["hidden initial environment"] = reason


def _erase_initial_block() -> str:
    """Zero the strings /proc/self/environ shows; why not, or "" when done."""
    if not os.path.isdir("/proc/self"):
        return ""  # no /proc in the cell: nothing shows the block
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[50 - 3]), int(fields[51 - 3])  # env_start, env_end (man 5 proc)
        with open("/proc/self/environ", "rb") as f:
            shown = f.read()
    except (OSError, ValueError, IndexError) as e:
        return f"reading /proc/self: {e}"
    if not shown:
        return ""
    # Only memory that holds exactly what the kernel shows there is ours to overwrite.
    if end <= start or ctypes.string_at(start, end - start)[: len(shown)] != shown:
        return "the environment block is not where /proc/self/stat says"
    ctypes.memset(start, 0, end - start)
    return ""
