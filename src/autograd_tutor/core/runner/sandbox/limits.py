"""In the cell process: rlimits, the pid namespace's own pid_max, and no capabilities left."""

from __future__ import annotations

import ctypes
import os
import resource

from autograd_tutor.core.runner.sandbox.kernel import kernel_at_least, libc, why, write
from autograd_tutor.core.runner.shared.processes import prctl
from autograd_tutor.core.runner.shared.sandbox_config import SandboxConfig, SandboxReport

# The kernel reuses pids from 300 upwards after the first wrap, and refuses pid_max < 301.
RESERVED_PIDS = 300
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def set_rlimits(config: SandboxConfig, report: SandboxReport) -> None:
    limits = {
        "RLIMIT_DATA": (resource.RLIMIT_DATA, config.memory_bytes, config.memory_bytes),
        "RLIMIT_CPU": (resource.RLIMIT_CPU, config.cpu_seconds, config.cpu_seconds + 5),
        "RLIMIT_FSIZE": (resource.RLIMIT_FSIZE, config.file_bytes, config.file_bytes),
        "RLIMIT_NOFILE": (resource.RLIMIT_NOFILE, config.open_files, config.open_files),
        "RLIMIT_NPROC": (resource.RLIMIT_NPROC, config.processes, config.processes),
        "RLIMIT_CORE": (resource.RLIMIT_CORE, 0, 0),  # no core files in scratch
    }
    failed = []
    for name, (which, soft, hard) in limits.items():
        try:
            # Only ever lower a limit: raising the hard one needs privileges we no longer have.
            _, cur_hard = resource.getrlimit(which)
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
            resource.setrlimit(which, (min(soft, hard), hard))
        except (OSError, ValueError) as e:
            failed.append(f"{name}: {e}")
    if failed:
        report.missing["rlimits"] = "; ".join(failed)
    else:
        report.active.append("rlimits")


def limit_pids(processes: int, report: SandboxReport) -> None:
    """Cap the tasks of the pid namespace with its own pid_max (Linux >= 6.14).

    RLIMIT_NPROC does not bind uid 0 (the kernel exempts the root user even inside a user
    namespace), so for root this is the only fork-bomb bound. pid_max counts threads too and
    cannot go below 301; we use 300 + processes so that after pids wrap (they restart at 300)
    ``processes`` slots remain: at most 299 + processes tasks at once.
    """
    root = os.getuid() == 0
    # On older kernels the file is the machine-wide pid_max, and root in a user namespace
    # still owns it: never write it unless it is known to be per namespace and ours.
    if "pid namespace" not in report.active or os.getpid() != 1:
        reason = "this is not pid 1 of a new pid namespace"
    elif not kernel_at_least(6, 14):
        reason = f"kernel {os.uname().release} has no per-namespace pid_max (6.14+)"
    else:
        pid_max = RESERVED_PIDS + processes
        try:
            write("/proc/sys/kernel/pid_max", str(pid_max))
            report.active.append(f"pid limit (pid_max {pid_max})")
            return
        except OSError as e:
            reason = f"writing pid_max: {why(e)}"
    if root:
        report.missing["process limit"] = f"RLIMIT_NPROC does not bind root, and {reason}"


def forbid_user_namespaces(report: SandboxReport) -> None:
    """No user namespace below the session's: its own max_user_namespaces set to 0.

    The kernel's rule, under the seccomp filter's: a nested user namespace would give back
    every capability inside it. The file is per user namespace (the writer's own), so it is
    written only inside the session's, never the machine's; needs CAP_SYS_RESOURCE there
    (before drop_capabilities) and a writable /proc/sys (before Landlock).
    """
    if "user namespace" not in report.active or _in_initial_user_namespace():
        report.missing["nested user namespace rule"] = "no user namespace of the session's own"
        return
    try:
        write("/proc/sys/user/max_user_namespaces", "0")
        report.active.append("no nested user namespaces (max_user_namespaces 0)")
    except OSError as e:
        report.missing["nested user namespace rule"] = f"max_user_namespaces: {why(e)}"


def _in_initial_user_namespace() -> bool:
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split() == ["0", "0", "4294967295"]
    except OSError:
        return True  # unknown: never risk writing the machine's limit


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]


def drop_capabilities(report: SandboxReport) -> None:
    """Give up every capability the user namespace gave us, for good (bounding set too).

    Without this, root inside could unmount the binds or mount an unbounded tmpfs where
    Landlock is missing; with an empty bounding set and no_new_privs, nothing it executes
    gets capabilities back.
    """
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except (OSError, ValueError):
        last = 63
    for cap in range(last + 1):
        prctl(PR_CAPBSET_DROP, cap)  # EINVAL past the kernel's last: ignored
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        report.missing["capabilities"] = why(OSError(ctypes.get_errno(), ""))
    else:
        report.active.append("no capabilities")
