"""Process helpers shared by the host, the relay and the cell process (standard library only)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time

PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4
_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> bool:
    """prctl(2), the one wrapper every process uses; False where the kernel refused.

    Arguments go at the width the kernel reads them (unsigned long), not ctypes' int."""
    args = (ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(0), ctypes.c_ulong(0))
    return _libc.prctl(ctypes.c_int(option), *args) == 0


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL us when our parent dies (even by SIGKILL)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def reap(pid: int, wait: float = 0.5) -> int | None:
    """The wait status of a child that is ending; SIGKILL after `wait` seconds if it is not.

    None when it had to be killed. Never blocks for long: a child that closed its channel
    but lives on (learner code can close fd 3) is not waited for."""
    deadline = time.monotonic() + wait
    killed = False
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return None if killed else status
        if time.monotonic() >= deadline:
            if killed:
                return None  # unkillable for now (in the kernel); the pid namespace goes with us
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed, deadline = True, time.monotonic() + 2.0
        time.sleep(0.005)


def describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        meaning = {
            "SIGSEGV": "segmentation fault",
            "SIGKILL": "killed",
            "SIGABRT": "aborted",
            "SIGBUS": "bus error",
            "SIGXCPU": "CPU time limit",
            "SIGFPE": "arithmetic fault",
        }
        return f"{name} ({meaning[name]})" if name in meaning else name
    code = os.waitstatus_to_exitcode(status)
    return f"the process exited with code {code} (os._exit or a fatal error)"
