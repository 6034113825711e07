"""In the cell process: Landlock, the second layer under the mount namespace.

Filesystem rules (read where the cell may read, write only in its scratch), TCP bind and
connect denied (ABI 4), no signals to and no abstract unix sockets of processes outside the
sandbox (ABI 6). Landlock also forbids the confined process any further mount or pivot_root.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from pathlib import Path

from autograd_tutor.core.runner.sandbox import mounts
from autograd_tutor.core.runner.sandbox.kernel import syscall, why
from autograd_tutor.core.runner.shared.sandbox_config import SandboxConfig, SandboxReport

# Landlock syscalls use the generic numbers on these machines (not on e.g. alpha or mips).
_LANDLOCK_MACHINES = {"x86_64", "aarch64", "arm64"}
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1

# Filesystem access rights (include/uapi/linux/landlock.h) and the ABI that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ABI1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM: 13 rights
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FS_SINCE_ABI = {2: FS_REFER, 3: FS_TRUNCATE, 5: FS_IOCTL_DEV}
_FS_READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
# Only these may be granted on a path that is not a directory (else EINVAL).
_FS_FILE_ONLY = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1

# What Python, torch and the dynamic loader read. /tmp and home are deliberately absent.
_SYSTEM_READ = ["/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev"]
_SHM = "/dev/shm"  # multiprocessing's semaphores (sem_open) and DataLoader workers


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel struct is __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> tuple[int, str]:
    """The kernel's Landlock ABI version, or 0 and why there is none."""
    machine = os.uname().machine
    if machine not in _LANDLOCK_MACHINES:
        return 0, f"Landlock syscall numbers unknown for {machine}"
    try:
        return syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION), ""
    except OSError as e:
        if e.errno == errno.EOPNOTSUPP:
            return 0, "Landlock is built in but not enabled (lsm= boot parameter)"
        return 0, f"kernel has no Landlock (ABI 0, {why(e)})"


def rules(config: SandboxConfig, writable: list[str]) -> dict[str, int]:
    """Path -> rights (before masking by the ABI). Everything else becomes unreadable.

    ``writable``: the scratch (host folder, or /scratch and /tmp in the mount namespace).
    """
    found: dict[str, int] = {}

    def add(path: str | Path, rights: int) -> None:
        found[str(path)] = found.get(str(path), 0) | rights

    for p in _SYSTEM_READ:
        add(p, _FS_READ)
    for p in mounts.python_paths(config):
        add(p, _FS_READ)
    for p in config.granted_reads():
        add(p, _FS_READ)
    for p in mounts.DEVICES:
        add(p, FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE)
    add(_SHM, -1)  # -1: every right the kernel handles
    for p in writable:
        add(p, -1)
    return found


def restrict(found: dict[str, int], report: SandboxReport) -> None:
    abi, reason = landlock_abi()
    if abi < 1:
        report.missing["landlock"] = reason
        return
    handled_fs = _FS_ABI1 | sum(bit for since, bit in _FS_SINCE_ABI.items() if abi >= since)
    attr = _RulesetAttr(handled_access_fs=handled_fs)
    size = 8  # an older kernel rejects a larger struct with nonzero fields it does not know
    if abi >= 4:  # TCP bind/connect handled and no rule allows any port: all denied
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
        size = 16
    if abi >= 6:  # no signals to, no abstract unix sockets of, processes outside the sandbox
        attr.scoped = _SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET
        size = 24

    ruleset_fd = -1
    try:
        ruleset_fd = syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
        for path, rights in found.items():
            _add_path_rule(ruleset_fd, path, rights & handled_fs)
        syscall(_SYS_RESTRICT_SELF, ruleset_fd, 0)
    except OSError as e:
        report.missing["landlock"] = f"setting up the ruleset: {why(e)}"
        return
    finally:
        if ruleset_fd >= 0:
            os.close(ruleset_fd)
    report.active.append(f"landlock filesystem (ABI {abi})")
    for name, since in (("landlock network", 4), ("landlock signal scope", 6)):
        if abi >= since:
            report.active.append(name)
        else:
            report.missing[name] = f"needs Landlock ABI {since}, kernel has {abi}"


def _add_path_rule(ruleset_fd: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # absent (/lib64 on some systems) or not ours to traverse: nothing to allow
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FS_FILE_ONLY
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        syscall(_SYS_ADD_RULE, ruleset_fd, _RULE_PATH_BENEATH, ctypes.byref(rule), 0)
    finally:
        os.close(fd)
