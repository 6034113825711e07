"""The app's folders in the system's temporary folder, and sweeping those a crash left.

The client makes a scratch root (`autograd-tutor-XXXX`: the sessions' host scratch folders)
and the class's server a socket folder (`autograd-tutor-class-XXXX`); both are removed when
the app closes. An app that was killed leaves them behind, as it leaves session cgroups
(cgroups.py). So each is named after its app's pid (`autograd-tutor-<pid>-XXXX`) and made
with a lock held for the app's life: an flock on the folder itself, which the kernel drops
when its last holder dies, whatever the pid namespace and however the pid is reused. At the
next start, `sweep` removes every such folder of ours whose lock it can take: its app is
gone. Folders of other names (the sandbox probe's, a few milliseconds long; an older
version's, which holds no lock) are only removed when empty and `STALE_SECONDS` old.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import time

PREFIX = "autograd-tutor-"
STALE_SECONDS = 10.0
_LOCKED_NAME = re.compile(r"autograd-tutor-(class-)?[0-9]+-")  # made by make(): always locked


def _open_dir(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def make(prefix: str = PREFIX) -> tuple[str, int]:
    """(a new 0700 folder, the descriptor that holds its lock): close it after removing it."""
    path = tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")
    fd = _open_dir(path)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new folder: no one else has it
    return path, fd


def release(path: str, fd: int) -> None:
    """Remove the folder, then drop its lock (once: `fd` is -1 after the first time)."""
    shutil.rmtree(path, ignore_errors=True)
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)


def sweep(folder: str | None = None, min_age: float = STALE_SECONDS) -> list[str]:
    """Remove our app folders that no live app holds; the paths removed."""
    folder = folder or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not entry.is_dir(follow_symlinks=False) or st.st_uid != os.geteuid():
                continue  # another user's (a shared /tmp), or not a folder of ours
            if time.time() - st.st_mtime < min_age:
                continue  # may be another app's, between its mkdtemp and its lock
            fd = _open_dir(entry.path)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)  # a live app holds it
            continue
        try:
            if _LOCKED_NAME.match(entry.name):
                shutil.rmtree(entry.path)  # under our lock: no app can take it meanwhile
            else:
                os.rmdir(entry.path)  # ENOTEMPTY: maybe in use by an app that locks nothing
            removed.append(entry.path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed
