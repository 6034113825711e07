"""A mount namespace with a minimal view of the filesystem, as bubblewrap and nsjail give.

Two steps, in two processes:

* ``prepare`` runs in the relay with its real ids, before any namespace: it lists what the
  cell may see (system folders, the Python install, the autograd_tutor package, the granted
  read paths, five device nodes). Root also makes a detached copy of each one there
  (``open_tree(OPEN_TREE_CLONE)``): the cell will be uid 65534 to the files outside, and
  could not look up paths under a 0700 ``/root`` (where pyenv puts Python) by itself. An
  O_PATH descriptor is not enough: mounting from one, or from ``/proc/self/fd/N``, fails
  with EINVAL once the cell is in another mount namespace.
* ``enter`` runs in the cell process: unshare(CLONE_NEWNS), copies of the by-path sources,
  a small tmpfs for the new root, the copies moved into it read-only, a size-limited tmpfs
  scratch (``/scratch``, also ``/tmp``), a small ``/dev/shm``, a fresh ``/proc`` of the
  session's pid namespace, then pivot_root and detach the old root. Every path keeps its
  host name inside, so ``sys.path`` and ``__file__`` stay true.

A failed step before pivot_root undoes the staging mount and reports why; the cell then
keeps the host's view (Landlock still applies). Paths absent on this machine are skipped.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograd_tutor.core.runner.sandbox.kernel import (
    CLONE_NEWNS,
    check,
    libc,
    syscall,
    unshare,
    why,
)
from autograd_tutor.core.runner.shared.sandbox_config import SandboxConfig, SandboxReport

SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2"}  # fmt: skip
SCRATCH = "/scratch"  # inside: the cell's cwd, HOME and TMPDIR; /tmp is the same tmpfs
STAGING = "/tmp"  # where the new root is built, in the cell's own mount namespace only
# The folder the app was started from (`python -m` puts it first on sys.path): taken when
# the host imports us, before any process of ours changes directory.
_START_CWD = Path.cwd().resolve()

# The mount API's numbers are the same on these machines (asm-generic); pivot_root is not.
_SYS_OPEN_TREE, _SYS_MOVE_MOUNT, _SYS_OPENAT2, _SYS_MOUNT_SETATTR = 428, 429, 437, 442
RESOLVE_NO_SYMLINKS = 0x04
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC = 1, os.O_CLOEXEC
AT_FDCWD, AT_EMPTY_PATH, AT_RECURSIVE = -100, 0x1000, 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC = 1, 2, 4, 8
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2


class _MountAttr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("attr_set", "attr_clr", "propagation", "userns")]


class _OpenHow(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("flags", "mode", "resolve")]


@dataclass
class Bind:
    path: str  # the same path outside and inside
    device: bool = False  # a device node: writable, not nodev
    fd: int = -1  # a detached copy made by the relay, or -1: the cell copies it by path
    granted: bool = False  # a lesson's path: refused, not fatal, if it cannot be copied


@dataclass
class MountPlan:
    binds: list[Bind] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # symlinks: merged /usr, venv paths
    detached: bool = False  # every bind is a detached copy: the cell needs no host lookups
    why: str = ""  # why not, when root could not make them

    def fds(self) -> list[int]:
        return [b.fd for b in self.binds if b.fd >= 0]

    def close(self) -> None:
        for b in self.binds:
            if b.fd >= 0:
                os.close(b.fd)
                b.fd = -1


def _supported() -> str:
    machine = os.uname().machine
    return "" if machine in _SYS_PIVOT_ROOT else f"mount syscall numbers unknown for {machine}"


def python_paths(config: SandboxConfig) -> list[str]:
    """The interpreter, its stdlib and site-packages (wherever they live), and our package.

    Never "/", /tmp, the home or a folder above it, nor the folder the app was started
    from (``python -m`` puts it first on sys.path).
    """
    import autograd_tutor

    broad = config.too_broad() | {_START_CWD}
    prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    found = [*prefixes, *sys.path, str(Path(autograd_tutor.__file__).parent)]
    return [p for p in found if p and os.path.isabs(p) and Path(p).resolve() not in broad]


def prepare(config: SandboxConfig, report: SandboxReport) -> MountPlan:
    """In the relay, with its real ids: what the cell will see, as detached copies for root."""
    plan = MountPlan()
    report.refused.update(config.refused_reads())
    if why_not := _supported():
        plan.why = why_not
        return plan
    wanted: list[str] = []
    granted = {os.path.realpath(p) for p in config.granted_reads()}
    for p in SYSTEM:
        if os.path.islink(p):
            plan.links[p] = os.readlink(p)  # merged /usr: /bin -> usr/bin
        elif os.path.isdir(p):
            wanted.append(p)
    for p in [*python_paths(config), *map(str, config.granted_reads())]:
        real = os.path.realpath(p)
        if os.path.exists(real):
            wanted.append(real)
            if real != os.path.abspath(p):
                plan.links[os.path.abspath(p)] = real
    kept: list[str] = []
    for p in sorted(set(wanted)):  # a parent sorts before its children
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(p)
    plan.links = {
        link: to
        for link, to in plan.links.items()
        if not any(link.startswith(k.rstrip("/") + "/") for k in kept)
    }
    plan.binds = [Bind(p, granted=p in granted) for p in kept]
    plan.binds += [Bind(d, device=True) for d in DEVICES]
    if os.geteuid() == 0:
        plan.detached = True
        for b in list(plan.binds):
            try:
                b.fd = _clone(b.path)
            except OSError as e:
                if b.granted:
                    _refuse(plan, b, report, e)
                    continue
                plan.close()
                plan.detached, plan.why = False, f"copying {b.path}: {why(e)}"
                break
    return plan


def _refuse(plan: MountPlan, bind: Bind, report: SandboxReport, e: OSError) -> None:
    """A granted path that could not be copied (a symlink swapped in since the check): the
    cell goes without it rather than without a mount namespace."""
    plan.binds.remove(bind)
    report.refused[bind.path] = f"copying it: {why(e)}"


# The cell process puts its channel on fd 3 and closes everything from 4 up except the
# plan's copies: keep those well clear of the low numbers, so none is ever clobbered there.
_FIRST_PLAN_FD = 64


def _clone(path: str) -> int:
    """A detached copy of `path`, found without following any symlink on the way.

    Every path of the plan is a real path (prepare): a symlink met now was swapped in after
    the check, and open_tree by path would follow it (`assets` -> `~/.ssh`). openat2 with
    RESOLVE_NO_SYMLINKS refuses it (ELOOP); the copy is then made of the very descriptor, in
    this mount namespace (an O_PATH descriptor of another one is refused). Before Linux 5.6
    (no openat2) the path is copied as it is found."""
    flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE
    how = _OpenHow(flags=os.O_PATH | os.O_CLOEXEC, resolve=RESOLVE_NO_SYMLINKS)
    try:
        found = syscall(_SYS_OPENAT2, AT_FDCWD, path.encode(), ctypes.byref(how), 24)
    except OSError as e:
        if e.errno not in (errno.ENOSYS, errno.EPERM):  # EPERM: an old container's seccomp
            raise
        raw = syscall(_SYS_OPEN_TREE, AT_FDCWD, path.encode(), flags)
    else:
        try:
            raw = syscall(_SYS_OPEN_TREE, found, b"", flags | AT_EMPTY_PATH)
        finally:
            os.close(found)
    try:
        return fcntl.fcntl(raw, fcntl.F_DUPFD_CLOEXEC, _FIRST_PLAN_FD)
    finally:
        os.close(raw)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data or None)]
    check(libc.mount(enc[0], enc[1], enc[2], flags, enc[3]))


def _setattr(path: str, attrs: int) -> None:
    attr = _MountAttr(attr_set=attrs)
    syscall(_SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), AT_RECURSIVE, ctypes.byref(attr), 32)


def _mkdirs(root: str, path: str, is_dir: bool) -> str:
    target = root + path
    os.makedirs(target if is_dir else os.path.dirname(target), mode=0o755, exist_ok=True)
    if not is_dir and not os.path.exists(target):
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    return target


def enter(config: SandboxConfig, report: SandboxReport) -> bool:
    """In the cell process, root in the user namespace: build the new root and pivot into it.

    True when the cell now sees only the new root (its cwd is then ``SCRATCH``).
    """
    plan: MountPlan | None = config.plan
    if plan is None:
        report.missing["mount namespace"] = "no mount plan from the relay"
        return False
    if why_not := _supported():
        report.missing["mount namespace"] = why_not
        return False
    step, staged = "unshare(CLONE_NEWNS)", False
    try:
        unshare(CLONE_NEWNS)
        step = "making the mounts private"
        _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we do reaches the host
        for b in list(plan.binds):  # by path, before the staging tmpfs hides anything under /tmp
            if b.fd < 0 and os.path.exists(b.path):
                step = f"copying {b.path}"
                try:
                    b.fd = _clone(b.path)
                except OSError as e:
                    if not b.granted:
                        raise
                    _refuse(plan, b, report, e)
        step = "the root tmpfs"
        _mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=755")
        staged, root = True, STAGING
        step = "the scratch tmpfs"  # first: granted paths under /tmp get mount points in it
        flags = MS_NOSUID | MS_NODEV
        _mount("tmpfs", _mkdirs(root, SCRATCH, True), "tmpfs", flags,
               f"size={config.scratch_bytes},mode=700")  # fmt: skip
        _mount(root + SCRATCH, _mkdirs(root, "/tmp", True), None, MS_BIND)
        left = SPECIAL_WALK_LIMIT
        for b in plan.binds:
            if b.fd < 0:
                continue  # absent on this machine
            step = f"mounting {b.path}"
            is_dir = stat.S_ISDIR(os.fstat(b.fd).st_mode)
            target = _mkdirs(root, b.path, is_dir)
            syscall(_SYS_MOVE_MOUNT, b.fd, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH)
            ro = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC if b.device else MOUNT_ATTR_RDONLY
            _setattr(target, ro | MOUNT_ATTR_NOSUID | (0 if b.device else MOUNT_ATTR_NODEV))
            if b.granted and is_dir:
                try:
                    left -= hide_special_files(root, target, left, report)
                except OSError as e:  # the lesson's folder goes, not the mount namespace
                    check(libc.umount2(target.encode(), MNT_DETACH))
                    report.refused[b.path] = f"covering its FIFOs and sockets: {why(e)}"
        plan.close()
        if os.path.exists(root + _EMPTY):
            os.unlink(root + _EMPTY)  # its mounts stay
        for link, to in plan.links.items():
            step = f"linking {link}"
            _mkdirs(root, os.path.dirname(link), True)
            os.symlink(to, root + link)
        for name, to in DEV_LINKS.items():
            os.symlink(to, f"{root}/dev/{name}")
        step = "/dev/shm"
        _mount("tmpfs", _mkdirs(root, "/dev/shm", True), "tmpfs", flags | MS_NOEXEC,
               f"size={config.shm_bytes},mode=1777")  # fmt: skip
        _proc(root, report)
        _mask(root, report)
        step = "pivot_root"
        os.chdir(root)
        syscall(_SYS_PIVOT_ROOT[os.uname().machine], b".", b".")
        check(libc.umount2(b".", MNT_DETACH))  # the host's root, stacked under ours
        os.chdir("/")
    except OSError as e:
        plan.close()
        if staged:
            libc.umount2(STAGING.encode(), MNT_DETACH)
        report.missing["mount namespace"] = f"{step}: {why(e)}"
        report.missing.pop("own /proc", None)
        if "own /proc" in report.active:
            report.active.remove("own /proc")
        return False
    try:  # the root itself holds only mount points: nothing to write there
        _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    except OSError as e:
        report.missing["read-only root"] = why(e)
    os.chdir(SCRATCH)
    report.active.append(f"mount namespace (scratch tmpfs {config.scratch_bytes // 2**20} MiB)")
    return True


SPECIAL_WALK_LIMIT = 20_000  # entries of granted folders looked at per session (~20 ms)
_EMPTY = "/.empty"  # in the new root, until pivot_root: what stands over each FIFO and socket


def hide_special_files(root: str, folder: str, limit: int, report: SandboxReport) -> int:
    """Cover every FIFO and Unix socket under `folder` (a granted folder, already mounted in
    the new root) with an empty read-only file; the number of entries looked at.

    Neither a read-only mount nor Landlock stops opening a FIFO for writing or connecting to
    a socket: a host process listening on one in the lesson's folder would hear the cell.
    Only what is there now is covered: one made later by a host process shows through.
    """
    seen, todo, empty = 0, [folder], root + _EMPTY
    while todo:
        try:
            entries = list(os.scandir(todo.pop()))
        except OSError:
            continue  # a folder the cell may not list: it cannot find names in it either
        for entry in entries:
            seen += 1
            if seen > limit:
                report.missing["hidden FIFOs and sockets"] = (
                    f"granted folders hold more than {SPECIAL_WALK_LIMIT} entries; "
                    "those past it were not looked at"
                )
                return seen
            if entry.is_dir(follow_symlinks=False):
                todo.append(entry.path)
            elif not (entry.is_file(follow_symlinks=False) or entry.is_symlink()):
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                    if not os.path.exists(empty):
                        os.close(os.open(empty, os.O_CREAT | os.O_WRONLY, 0o444))
                    _mount(empty, entry.path, None, MS_BIND)
                    _setattr(entry.path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID
                             | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)  # fmt: skip
    return seen


def _proc(root: str, report: SandboxReport) -> None:
    """A fresh /proc that shows the session's pid namespace only; none at all if refused.

    In a container whose /proc has masked or over-mounted paths, the kernel may refuse a new
    proc mount in a user namespace (EPERM): the host's /proc is never shown instead.
    """
    try:
        _mount("proc", _mkdirs(root, "/proc", True), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        report.active.append("own /proc")
    except OSError as e:
        report.missing["own /proc"] = f"mounting proc: {why(e)} (the cell has no /proc)"


# What names this machine for good (a cell needs none of them): an empty file over each.
MASKED = ("/proc/cmdline", "/proc/sys/kernel/random/boot_id", "/etc/machine-id", "/etc/hostname")


def _mask(root: str, report: SandboxReport) -> None:
    empty, done = root + "/.empty", []
    step = "an empty file"
    try:
        os.close(os.open(empty, os.O_CREAT | os.O_WRONLY, 0o444))
        for path in MASKED:
            target, step = root + path, path
            if os.path.islink(target) or not os.path.isfile(target):
                continue  # absent, or a link to what the cell does not see (/run, /var)
            _mount(empty, target, None, MS_BIND)
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
            done.append(path)
        os.unlink(empty)  # the binds keep the file; the root shows no trace of it
    except OSError as e:
        report.missing["masked machine ids"] = f"{step}: {why(e)}"
        return
    report.active.append(f"masked machine ids ({', '.join(done)} empty)")


def close_fds_from(first: int, keep: list[int]) -> None:
    """Close every fd from ``first`` up, except ``keep`` (the mount plan's copies)."""
    top = os.sysconf("SC_OPEN_MAX")
    for fd in sorted(k for k in keep if k >= first):
        os.closerange(first, fd)
        first = fd + 1
    os.closerange(first, top)
