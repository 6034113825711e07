"""Kernel confinement for the cell process: user/net/pid namespaces, Landlock, rlimits.

Two steps, in two processes (see docs/architecture.md):

* ``enter_namespaces`` runs in the relay. A user namespace first, so that even root loses
  its capabilities over the rest of the machine (no ptrace, no reading the app's
  ``/proc/PID/environ``); inside it we may create a network namespace (no network at all)
  and a pid namespace whose pid 1 is the relay's next child: killing it kills every
  process the learner started.
* ``confine_cell`` runs in that child before any learner code: no_new_privs, rlimits, a
  per-namespace pid_max, and Landlock (filesystem, TCP, signal scoping).

Nothing here raises because the kernel lacks a feature: each missing protection is written
into a ``SandboxReport`` with the reason, so the app can say "sandbox: partial — ...".
Only the standard library (ctypes) is used; measured facts behind the choices are in
shared/reference/sandbox-findings.md.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import resource
import select
import shutil
import signal
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38

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
# Device files a program may open for writing: subprocess.DEVNULL, os.urandom and friends.
_DEVICES_RW = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]
# multiprocessing's semaphores (sem_open) and torch's DataLoader workers need /dev/shm;
# the price is that the cell can see shm segments whose modes let it (no mount namespace).
_SHM = "/dev/shm"

# The kernel reuses pids from 300 upwards after the first wrap, and refuses pid_max < 301.
_RESERVED_PIDS = 300

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long  # a pointer-sized result, not ctypes' default int


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel struct is __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass
class SandboxConfig:
    scratch: Path  # cell cwd; the only writable place (also TMPDIR and HOME)
    read_paths: list[Path]  # extra read-only paths (the lesson's folder)
    memory_bytes: int = 2 * 1024**3  # RLIMIT_DATA: the memory knob that works with torch
    cpu_seconds: int = 3600  # RLIMIT_CPU soft (hard = soft + 5)
    file_bytes: int = 64 * 1024**2  # RLIMIT_FSIZE
    open_files: int = 256  # RLIMIT_NOFILE
    processes: int = 64  # RLIMIT_NPROC (counts threads); pid_max for root, see _limit_pids


@dataclass
class SandboxReport:
    active: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # protection -> why it is missing

    @property
    def full(self) -> bool:
        return bool(self.active) and not self.missing

    def summary(self) -> str:
        if self.full:
            return "sandbox: full"
        if not self.active and not self.missing:
            return "sandbox: not applied"
        reasons = "; ".join(f"no {name} ({why})" for name, why in self.missing.items())
        return f"sandbox: partial — {reasons}"

    def to_json(self) -> dict[str, Any]:
        return {"active": list(self.active), "missing": dict(self.missing)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SandboxReport:
        return cls(active=list(d.get("active", [])), missing=dict(d.get("missing", {})))


def _why(e: OSError) -> str:
    code = errno.errorcode.get(e.errno or 0, str(e.errno))
    return f"{code} ({os.strerror(e.errno or 0)})"


def _check(ret: int) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def _syscall(nr: int, *args: Any) -> int:
    # syscall(2) is variadic and reads every argument as a long: pass ints at that width.
    c_args = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    return _check(_libc.syscall(ctypes.c_long(nr), *c_args))


def _unshare(flags: int) -> None:
    if hasattr(os, "unshare"):  # Python 3.12+
        os.unshare(flags)
    else:
        _check(_libc.unshare(ctypes.c_int(flags)))


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter_namespaces(report: SandboxReport) -> None:
    """In the relay, before it forks the cell process: new user, network and pid namespaces.

    The next child forked becomes pid 1 of the new pid namespace; killing it kills every
    process the cell started. Needs a single-threaded caller (the kernel refuses CLONE_NEWUSER
    otherwise). Each failed step is recorded in ``report.missing``; nothing is raised.
    """
    uid, gid = os.geteuid(), os.getegid()
    # A non-dumpable process (an app that hid its memory with PR_SET_DUMPABLE 0 and forked
    # us) gets root-owned /proc/self files and could not write its own id maps.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    try:
        _unshare(CLONE_NEWUSER)
    except OSError as e:
        report.missing["user namespace"] = f"unshare(CLONE_NEWUSER): {_why(e)}"
    else:
        try:
            # Map our own ids to themselves: files keep their owners, and root stays uid 0 for
            # file access but holds capabilities only inside this namespace.
            # setgroups must be denied before an unprivileged process may write gid_map.
            if os.path.exists("/proc/self/setgroups"):
                _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1\n")
            _write("/proc/self/gid_map", f"{gid} {gid} 1\n")
            report.active.append("user namespace")
        except OSError as e:
            report.missing["user namespace"] = f"writing the id maps: {_why(e)}"
    # Separately, so that one refusal does not cost the other protection.
    for flag, name in ((CLONE_NEWNET, "network namespace"), (CLONE_NEWPID, "pid namespace")):
        try:
            _unshare(flag)
            report.active.append(name)
        except OSError as e:
            report.missing[name] = f"unshare: {_why(e)}"


def confine_cell(config: SandboxConfig, report: SandboxReport) -> None:
    """In the cell process (pid 1 of the new pid namespace), before any learner code runs.

    The additions to ``report`` live in this process: send ``report.to_json()`` to whoever
    shows it. Note for the caller: as pid 1 of a pid namespace, this process ignores every
    signal whose handler is SIG_DFL (SIGTERM, and RLIMIT_CPU's SIGXCPU), except SIGKILL/STOP;
    the RLIMIT_CPU hard limit (SIGKILL) always works.
    """
    scratch = Path(config.scratch)
    home = Path(os.path.expanduser("~")).resolve()  # before HOME changes: see _landlock_rules
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        os.chdir(scratch)
    except OSError as e:
        report.missing["scratch cwd"] = f"{scratch}: {_why(e)}"
    os.environ["HOME"] = os.environ["TMPDIR"] = str(scratch)
    # Libraries would otherwise keep writing caches to the real home, which is now closed.
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ.pop(var, None)
    tempfile.tempdir = str(scratch)  # tempfile caches its first answer

    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
    if threads > 1:  # both no_new_privs and Landlock bind only the calling thread
        report.missing["single thread"] = f"{threads} threads; only the calling one is confined"

    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        report.active.append("no_new_privs")
    else:
        report.missing["no_new_privs"] = _why(OSError(ctypes.get_errno(), ""))

    _set_rlimits(config, report)
    _limit_pids(config.processes, report)  # needs /proc/sys writable: before Landlock
    try:
        _landlock(_landlock_rules(config, home), report)
    except (OSError, RuntimeError, ValueError) as e:  # e.g. a symlink loop in sys.path
        report.missing["landlock"] = f"building the rules: {e}"


def _set_rlimits(config: SandboxConfig, report: SandboxReport) -> None:
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


def _kernel_at_least(major: int, minor: int) -> bool:
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return bool(m) and (int(m[1]), int(m[2])) >= (major, minor)


def _limit_pids(processes: int, report: SandboxReport) -> None:
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
        why = "this is not pid 1 of a new pid namespace"
    elif not _kernel_at_least(6, 14):
        why = f"kernel {os.uname().release} has no per-namespace pid_max (6.14+)"
    else:
        pid_max = _RESERVED_PIDS + processes
        try:
            _write("/proc/sys/kernel/pid_max", str(pid_max))
            report.active.append(f"pid limit (pid_max {pid_max})")
            return
        except OSError as e:
            why = f"writing pid_max: {_why(e)}"
    if root:
        report.missing["process limit"] = f"RLIMIT_NPROC does not bind root, and {why}"


def _landlock_abi() -> tuple[int, str]:
    """The kernel's Landlock ABI version, or 0 and why there is none."""
    machine = os.uname().machine
    if machine not in _LANDLOCK_MACHINES:
        return 0, f"Landlock syscall numbers unknown for {machine}"
    try:
        return _syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION), ""
    except OSError as e:
        if e.errno == errno.EOPNOTSUPP:
            return 0, "Landlock is built in but not enabled (lsm= boot parameter)"
        return 0, f"kernel has no Landlock (ABI 0, {_why(e)})"


def _landlock_rules(config: SandboxConfig, home: Path) -> dict[str, int]:
    """Path -> rights (before masking by the ABI). Everything else becomes unreadable."""
    rules: dict[str, int] = {}

    def add(path: str | Path, rights: int) -> None:
        rules[str(path)] = rules.get(str(path), 0) | rights

    for p in _SYSTEM_READ:
        add(p, _FS_READ)
    # The interpreter, its stdlib and site-packages, wherever they live (often in home).
    # sys.path[0] may be the directory a script ran from: never open "/", /tmp or home that way.
    too_broad = {Path("/"), Path("/tmp"), home, *home.parents}
    python = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path]
    for entry in python:
        if entry and Path(entry).resolve() not in too_broad:
            add(entry, _FS_READ)
    add(Path(__file__).resolve().parents[2], _FS_READ)  # the autograd_tutor package
    for p in config.read_paths:
        add(p, _FS_READ)
    for p in _DEVICES_RW:
        add(p, FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE)
    add(_SHM, -1)  # -1: every right the kernel handles
    add(config.scratch, -1)
    return rules


def _landlock(rules: dict[str, int], report: SandboxReport) -> None:
    abi, why = _landlock_abi()
    if abi < 1:
        report.missing["landlock"] = why
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
        ruleset_fd = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
        for path, rights in rules.items():
            _add_path_rule(ruleset_fd, path, rights & handled_fs)
        _syscall(_SYS_RESTRICT_SELF, ruleset_fd, 0)
    except OSError as e:
        report.missing["landlock"] = f"setting up the ruleset: {_why(e)}"
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
        _syscall(_SYS_ADD_RULE, ruleset_fd, _RULE_PATH_BENEATH, ctypes.byref(rule), 0)
    finally:
        os.close(fd)


def probe(timeout: float = 10.0) -> SandboxReport:
    """What this kernel offers: a throwaway child tries enter_namespaces, its child confine_cell.

    The confined grandchild reports over a pipe. Costs a few milliseconds; never raises for
    a missing feature (a probe that dies or hangs comes back as a report that says so).
    """
    scratch = Path(tempfile.mkdtemp(prefix="autograd-tutor-probe-"))
    r, w = os.pipe()
    try:
        try:
            pid = os.fork()
        except OSError as e:
            os.close(w)
            return SandboxReport(missing={"probe": f"fork: {_why(e)}"})
        if pid == 0:  # the throwaway relay
            try:
                os.close(r)
                _probe_child(scratch, w)
            finally:
                os._exit(0)
        os.close(w)
        data, deadline = b"", time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0 and select.select([r], [], [], left)[0]:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        else:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        os.close(r)
        shutil.rmtree(scratch, ignore_errors=True)
    line = data.split(b"\n", 1)[0]
    if not line:
        return SandboxReport(missing={"probe": "the probe process gave no answer"})
    return SandboxReport.from_json(json.loads(line))


def _probe_child(scratch: Path, w: int) -> None:
    report = SandboxReport()
    enter_namespaces(report)
    try:
        pid = os.fork()
    except OSError as e:
        report.missing["cell process"] = f"fork after unshare: {_why(e)}"
        pid = -1
    if pid == 0:  # pid 1 of the new pid namespace, if there is one
        try:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # if probe() kills us
            confine_cell(SandboxConfig(scratch=scratch, read_paths=[]), report)
            os.write(w, json.dumps(report.to_json()).encode() + b"\n")
        finally:
            os._exit(0)
    if pid > 0:
        status = os.waitpid(pid, 0)[1]
        if status == 0:
            return  # the cell wrote its report
        report.missing["cell process"] = f"probe cell ended with wait status {status}"
    os.write(w, json.dumps(report.to_json()).encode() + b"\n")  # rather than no answer
