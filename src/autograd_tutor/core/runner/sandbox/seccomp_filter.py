"""In the cell process, last of all: a seccomp-BPF filter over what a cell never needs.

The kernel's attack surface a tutor's cell has no use for: new namespaces (a nested user
namespace gives back every capability, and with them netlink, nf_tables and the mount
API), the mount API, io_uring, the keyrings (whose quota is per uid, machine-wide), bpf,
perf_event_open, userfaultfd, ptrace, module loading and kexec, and sockets other than
Unix, IPv4 and IPv6 (no packet, raw-netlink, XDP or vsock sockets).

Every denied call fails with EPERM, a Python ``OSError`` the cell can read, never a kill:
libraries that probe for a feature (glibc asks netlink which address families exist, and
assumes both without it) keep working. One exception: ``clone3`` gets ENOSYS, because its
flags sit in a struct that a filter cannot read; glibc then falls back to ``clone``, whose
flags are its first argument (what Docker and Chromium do). Threads, ``fork``,
``subprocess`` and DataLoader workers all go through ``clone`` without namespace flags.

The filter is built with libseccomp through ``pyseccomp`` (a small ctypes binding with the
same API as libseccomp's own Python module, which is not on PyPI): libseccomp is the
maintained, tested BPF compiler every container runtime uses, and it handles what a
hand-written filter gets wrong (checking the architecture, the x32 syscall numbers on
x86_64). Calls of another architecture's ABI (``int 0x80`` on x86_64) are denied too.
Without libseccomp, or on a kernel without seccomp, the report says so and the cell runs
without the filter.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass

from autograd_tutor.core.runner.sandbox.kernel import why
from autograd_tutor.core.runner.shared.sandbox_config import SandboxConfig, SandboxReport

try:  # imported in the warm host (relay.py imports us), so each cell pays nothing
    import pyseccomp

    _UNAVAILABLE = ""
except (ImportError, OSError, RuntimeError) as e:  # RuntimeError: libseccomp not found
    pyseccomp = None
    _UNAVAILABLE = f"libseccomp could not be loaded ({e})"

CLONE_NEWTIME, CLONE_NEWNS, CLONE_NEWCGROUP = 0x80, 0x00020000, 0x02000000
CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER = 0x04000000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
# clone's low byte is the exit signal, so CLONE_NEWTIME (0x80) is only an unshare flag.
CLONE_NAMESPACES = (CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                    CLONE_NEWPID, CLONE_NEWNET)  # fmt: skip
UNSHARE_NAMESPACES = (*CLONE_NAMESPACES, CLONE_NEWTIME)
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10


@dataclass(frozen=True)
class Denied:
    """A group of system calls the filter refuses outright, as the report names it."""

    name: str
    syscalls: tuple[str, ...]


DENIED = (
    Denied("setns", ("setns",)),
    Denied("mount API", ("mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount",
                         "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
                         "open_by_handle_at", "name_to_handle_at")),  # fmt: skip
    Denied("io_uring", ("io_uring_setup", "io_uring_enter", "io_uring_register")),
    Denied("keyrings", ("add_key", "keyctl", "request_key")),
    Denied("bpf", ("bpf",)),
    Denied("perf_event_open", ("perf_event_open",)),
    Denied("userfaultfd", ("userfaultfd",)),
    Denied("ptrace", ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd")),
    Denied("modules and kexec", ("init_module", "finit_module", "delete_module",
                                 "kexec_load", "kexec_file_load")),  # fmt: skip
)
# The report's line: what a learner (or `autograd-tutor sandbox`) reads.
DENIES = ", ".join(
    ["namespaces (unshare, clone)", *(d.name for d in DENIED),
     "sockets other than unix/inet/inet6"]  # fmt: skip
)


def build() -> pyseccomp.SyscallFilter:
    """The filter, not yet loaded. Raises OSError (or RuntimeError) where libseccomp fails."""
    assert pyseccomp is not None
    sc = pyseccomp
    deny = sc.ERRNO(errno.EPERM)
    f = sc.SyscallFilter(sc.ALLOW)
    f.set_attr(sc.Attr.ACT_BADARCH, deny)  # another ABI's calls (i386 via int 0x80, x32)
    with_tsync(f)
    # Kernels before 5.16 turn on Speculative Store Bypass Disable for every seccomp'd
    # process unless asked not to, which slows torch's arithmetic; it would guard only the
    # cell's own memory from the cell's own code, so keep the CPU as it was (as Docker does).
    with contextlib.suppress(OSError):
        f.set_attr(sc.Attr.CTL_SSB, 1)
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for flag in CLONE_NAMESPACES:
        f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    for flag in UNSHARE_NAMESPACES:
        f.add_rule(deny, "unshare", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    for group in DENIED:
        for name in group.syscalls:
            if sc.resolve_syscall(sc.Arch.NATIVE, name) == -1:  # newer than this libseccomp
                continue
            f.add_rule(deny, name)
    # Allow only AF_UNIX (1), AF_INET (2) and AF_INET6 (10). The domain is compared as 64
    # bits: any value with high bits set is above 10 and denied as well.
    for call in ("socket", "socketpair"):
        f.add_rule(deny, call, sc.Arg(0, sc.GT, AF_INET6))
        for domain in range(AF_INET6):
            if domain not in (AF_UNIX, AF_INET):
                f.add_rule(deny, call, sc.Arg(0, sc.EQ, domain))
    return f


def with_tsync(f: pyseccomp.SyscallFilter) -> None:
    """Bind every thread of the process, should there be more than one (old libseccomp or
    kernel: the calling thread only, which the report's "single thread" check covers)."""
    try:
        f.set_attr(pyseccomp.Attr.CTL_TSYNC, 1)
    except OSError:
        pass


_built: list[pyseccomp.SyscallFilter] = []  # one per process, inherited by every fork


def prebuilt() -> pyseccomp.SyscallFilter:
    """The filter, built once per process: at import, which in the warm host is before it
    forks anything. Built in each cell it would cost ~3 ms of CPU (Python, and fresh
    copy-on-write pages); loading the built one costs ~0.4 ms."""
    if not _built:
        _built.append(build())
    return _built[0]


def install(config: SandboxConfig, report: SandboxReport) -> None:
    """Load the filter into this process (and every process it starts). Never raises."""
    if not config.seccomp:
        report.missing["seccomp filter"] = "turned off (SandboxConfig.seccomp)"
        return
    if pyseccomp is None:
        report.missing["seccomp filter"] = _UNAVAILABLE
        return
    try:
        prebuilt().load()
    except (OSError, RuntimeError, ValueError) as e:
        reason = why(e) if isinstance(e, OSError) else str(e)
        if isinstance(e, OSError) and e.errno == errno.EINVAL:
            reason += ": the kernel has no seccomp filters, or libseccomp knows no " \
                      f"{os.uname().machine}"  # fmt: skip
        report.missing["seccomp filter"] = reason
        return
    report.active.append(f"seccomp filter (EPERM for {DENIES})")


if pyseccomp is not None:
    with contextlib.suppress(OSError, RuntimeError, ValueError):  # install() says why, later
        prebuilt()
