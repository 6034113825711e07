"""Thin ctypes wrappers for the system calls the sandbox needs (no third-party package)."""

from __future__ import annotations

import ctypes
import errno
import os
import re
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWUTS = 0x04000000
PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 4, 38

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long  # a pointer-sized result, not ctypes' default int
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_char_p]  # fmt: skip
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def why(e: OSError) -> str:
    """'EACCES (Permission denied)': the errno's name and meaning, for reports."""
    code = errno.errorcode.get(e.errno or 0, str(e.errno))
    return f"{code} ({os.strerror(e.errno or 0)})"


def check(ret: int) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def syscall(nr: int, *args: Any) -> int:
    # syscall(2) is variadic and reads every argument as a long: pass ints at that width.
    c_args = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    return check(libc.syscall(ctypes.c_long(nr), *c_args))


def unshare(flags: int) -> None:
    if hasattr(os, "unshare"):  # Python 3.12+
        os.unshare(flags)
    else:
        check(libc.unshare(ctypes.c_int(flags)))


def setdomainname(name: str) -> None:
    raw = name.encode()
    check(libc.setdomainname(raw, ctypes.c_size_t(len(raw))))


def write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def kernel_at_least(major: int, minor: int) -> bool:
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return bool(m) and (int(m[1]), int(m[2])) >= (major, minor)
