"""Tell when lesson files change on disk, so an open lesson can be reloaded (no Textual here).

`watch()` is a blocking loop meant for a thread worker. It uses watchfiles (inotify and
friends, debounced) and falls back to polling the files' stat signatures when watchfiles
cannot start or fails, or when `AUTOGRAD_TUTOR_POLL=1` asks for it: file events never
arrive on some filesystems (WSL's /mnt drives, network mounts, some containers' bind
mounts), and a learner there should still see their edits.

The *folders* holding the files are watched, not the files: editors save by writing a
temporary file and renaming it over the lesson (vim, VS Code, JetBrains), which replaces
the inode a file watch would be bound to. Events for other files in those folders are
dropped here, so the caller only hears about the files it asked for.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ENV_POLL = "AUTOGRAD_TUTOR_POLL"

# watchfiles groups events until STEP_MS pass without a new one (at most DEBOUNCE_MS): a
# save that writes in pieces, or renames then chmods, is reported once.
DEBOUNCE_MS = 1600
STEP_MS = 50
# How long the Rust side blocks before looking again; the stop event is checked every
# STEP_MS regardless, so this only bounds a wait with nothing to report.
RUST_TIMEOUT_MS = 1000
# The poller's own debounce: after a change it re-checks this often until the files are
# quiet, for at most POLL_SETTLE_MAX seconds, so a half-written file is not reported alone.
POLL_SETTLE = 0.05
POLL_SETTLE_MAX = 1.6

log = logging.getLogger(__name__)

# (mtime_ns, ctime_ns, size, inode) or None when the file is missing. ctime and the inode
# catch a rename-replace within one mtime tick of a coarse filesystem.
Signature = tuple[int, int, int, int] | None


def _signature(path: Path) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _snapshot(paths: Iterable[Path]) -> dict[Path, Signature]:
    return {path: _signature(path) for path in paths}


def _names(paths: Iterable[Path]) -> dict[str, Path]:
    """Every spelling an event may use for a file -> the Path the caller gave.

    Events name files under the folder as it was passed (absolute, symlinks kept), so the
    absolute path is the key; the resolved path is one too, for a lesson that is itself a
    symlink into another folder (whose parent is then watched as well).
    """
    names: dict[str, Path] = {}
    for path in paths:
        names[os.path.abspath(path)] = path
        names[os.path.realpath(path)] = path
    return names


def polling_forced(env: dict[str, str] | None = None) -> bool:
    value = (os.environ if env is None else env).get(ENV_POLL, "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def watch(
    paths: Iterable[Path],
    on_change: Callable[[set[Path]], None],
    stop: threading.Event,
    *,
    poll_interval: float = 0.5,
) -> None:
    """Call `on_change(changed)` from this thread whenever some of `paths` change; block
    until `stop` is set.

    `changed` holds the Paths as given (a deleted file is reported too: the caller decides
    what a missing lesson means). Reports may repeat for one save; reloading twice is
    harmless, missing a save is not. Exceptions from `on_change` end the loop: they are
    the caller's bugs, not a reason to fall back to polling.
    """
    files = list(dict.fromkeys(Path(p) for p in paths))
    if not files or stop.is_set():
        return
    # Taken before watching starts: when watchfiles fails later, the poller compares with
    # this and so reports what changed meanwhile (possibly again: see above).
    baseline = _snapshot(files)
    if not polling_forced():
        if _watch_events(files, on_change, stop):
            return
        if stop.is_set():
            return
        log.info("file events unavailable: polling lesson files every %.2f s", poll_interval)
    _poll(files, on_change, stop, poll_interval, baseline)


def _watch_events(
    files: list[Path], on_change: Callable[[set[Path]], None], stop: threading.Event
) -> bool:
    """Watch with watchfiles until `stop`; False when it could not start or broke down."""
    try:
        import watchfiles
    except ImportError:
        return False
    names = _names(files)
    folders = sorted({os.path.dirname(name) for name in names})
    folders = [folder for folder in folders if os.path.isdir(folder)]
    if not folders:
        return False  # nothing to put a watch on yet; the poller notices files that appear
    changes = watchfiles.watch(
        *folders,
        # Filtered before a batch is yielded: a busy folder (a build writing beside the
        # lessons) never reaches the loop below. Also replaces watchfiles' default filter,
        # which would drop names like `lesson.md~`, harmless, but not ours to decide.
        watch_filter=lambda _change, name: name in names,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        rust_timeout=RUST_TIMEOUT_MS,
        recursive=False,
        raise_interrupt=False,
        # force_polling is left to watchfiles: it polls by itself on WSL, where inotify
        # misses edits made from Windows, and honours WATCHFILES_FORCE_POLLING.
    )
    try:
        while True:
            try:
                batch = next(changes)
            except StopIteration:
                return True  # the stop event was set
            except Exception as exc:  # noqa: BLE001 - any failure of the watcher: poll instead
                log.warning("watchfiles failed (%s): falling back to polling", exc)
                return False
            changed = {names[name] for _change, name in batch if name in names}
            if changed:
                on_change(changed)
    finally:
        changes.close()  # releases the OS watch now, also when on_change raised


def _poll(
    files: list[Path],
    on_change: Callable[[set[Path]], None],
    stop: threading.Event,
    interval: float,
    baseline: dict[Path, Signature],
) -> None:
    """Compare stat signatures every `interval` seconds until `stop` is set."""
    last = dict(baseline)
    while not stop.wait(interval):
        now = _snapshot(files)
        changed = {path for path in files if now[path] != last[path]}
        if not changed:
            continue
        # Debounce: wait until a re-check shows no further change (bounded), then report
        # everything that changed in the meantime in one call.
        deadline = time.monotonic() + POLL_SETTLE_MAX
        while time.monotonic() < deadline and not stop.wait(POLL_SETTLE):
            again = _snapshot(files)
            moved = {path for path in files if again[path] != now[path]}
            now = again
            if not moved:
                break
            changed |= moved
        last = now
        if stop.is_set():
            return
        on_change(changed)
