"""core.watch with real files: events through watchfiles, and the polling fallback."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograd_tutor.core import watch as watch_mod
from autograd_tutor.core.watch import ENV_POLL, polling_forced, watch

# Slow lane (real file events, waited for): CI runs it; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

# Bounds, not expectations: a report usually comes within ~0.1 s (events) or two poll
# intervals; the slack is for a loaded CI machine.
REPORT_WITHIN = 5.0
POLL_INTERVAL = 0.05


class Watcher:
    """watch() in a thread, its reports in a queue."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.reports: queue.Queue[set[Path]] = queue.Queue()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            watch(self.paths, self.reports.put, self.stop, poll_interval=POLL_INTERVAL)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def start(self, probe: Path) -> Watcher:
        """Start, and return once a write to `probe` is reported: the watch is live.

        There is no "ready" callback (watchfiles sets its OS watch inside the generator),
        so a test must not write before this, or its write could land before the watch.
        """
        self.thread.start()
        deadline = time.monotonic() + REPORT_WITHIN
        n = 0
        while time.monotonic() < deadline:
            n += 1
            probe.write_text(f"probe {n}\n" * n)
            try:
                self.reports.get(timeout=0.2)
                break
            except queue.Empty:
                continue
        else:
            raise AssertionError(f"the watcher never reported a probe write (error: {self.error})")
        self.drain()
        return self

    def drain(self, quiet: float = 0.3) -> None:
        """Swallow reports until none comes for `quiet` seconds (debounce tails)."""
        while True:
            try:
                self.reports.get(timeout=quiet)
            except queue.Empty:
                return

    def next_report(self, timeout: float = REPORT_WITHIN) -> tuple[set[Path], float]:
        start = time.monotonic()
        try:
            got = self.reports.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no change reported within {timeout} s (error: {self.error})"
            ) from None
        return got, time.monotonic() - start

    def close(self) -> float:
        """Stop, and return how long the loop took to end."""
        start = time.monotonic()
        self.stop.set()
        self.thread.join(timeout=10)
        return time.monotonic() - start


@pytest.fixture(params=["events", "poll"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "poll":
        monkeypatch.setenv(ENV_POLL, "1")
    else:
        monkeypatch.delenv(ENV_POLL, raising=False)
        monkeypatch.delenv("WATCHFILES_FORCE_POLLING", raising=False)

        # The events case must really use watchfiles: the poller failing loudly proves it.
        def no_poll(*args: object, **kwargs: object) -> None:
            raise AssertionError("polled although watchfiles should have worked")

        monkeypatch.setattr(watch_mod, "_poll", no_poll)
    return request.param


@pytest.fixture
def lesson(tmp_path: Path) -> Path:
    path = tmp_path / "lessons" / "01-intro.en.md"
    path.parent.mkdir()
    path.write_text("# Intro\n")
    return path


@pytest.fixture
def watcher(lesson: Path, mode: str) -> Iterator[Watcher]:
    w = Watcher([lesson]).start(probe=lesson)
    yield w
    w.close()


def test_a_write_is_reported(watcher: Watcher, lesson: Path) -> None:
    lesson.write_text("# Intro, edited\n")
    changed, took = watcher.next_report()
    assert changed == {lesson}
    assert took < REPORT_WITHIN


def test_an_atomic_rename_replace_is_reported(watcher: Watcher, lesson: Path) -> None:
    # What vim, VS Code and friends do: write a temporary file beside it, rename it over.
    tmp = lesson.with_name(".01-intro.en.md.swp-tmp")
    tmp.write_text("# Intro, saved by an editor\n")
    os.replace(tmp, lesson)
    changed, _ = watcher.next_report()
    assert changed == {lesson}  # the temporary file's own events are not reported
    assert lesson.read_text() == "# Intro, saved by an editor\n"
    # The watch survives the replace: the new inode's next save is reported too.
    watcher.drain()
    lesson.write_text("# Intro, saved again\n")
    changed, _ = watcher.next_report()
    assert changed == {lesson}


def test_unrelated_files_are_ignored(watcher: Watcher, lesson: Path) -> None:
    other = lesson.with_name("02-other.en.md")
    other.write_text("# Other\n")
    (lesson.parent / "notes.txt").write_text("scribbles")
    (lesson.parent / "sub").mkdir()
    (lesson.parent / "sub" / "01-intro.en.md").write_text("same name, other folder")
    with pytest.raises(queue.Empty):
        watcher.reports.get(timeout=1.0)
    lesson.write_text("# Intro, edited\n")
    changed, _ = watcher.next_report()
    assert changed == {lesson}


def test_a_deleted_file_is_reported(watcher: Watcher, lesson: Path) -> None:
    lesson.unlink()
    changed, _ = watcher.next_report()
    assert changed == {lesson}


def test_stopping_ends_the_loop_promptly(watcher: Watcher) -> None:
    took = watcher.close()
    assert not watcher.thread.is_alive()
    assert took < 1.0, f"the loop took {took:.2f} s to stop"
    assert watcher.error is None


def test_several_files_in_two_folders(tmp_path: Path, mode: str) -> None:
    a = tmp_path / "a" / "01-a.en.md"
    b = tmp_path / "b" / "01-b.en.md"
    for path in (a, b):
        path.parent.mkdir()
        path.write_text("x\n")
    w = Watcher([a, b]).start(probe=a)
    try:
        b.write_text("b changed\n")
        changed, _ = w.next_report()
        assert changed == {b}
    finally:
        w.close()


def test_falls_back_to_polling_when_watchfiles_fails(
    lesson: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchfiles

    def broken(*args: object, **kwargs: object) -> Iterator[set[tuple[object, str]]]:
        raise OSError(28, "inotify watch limit reached")
        yield set()  # a generator, as the real one is

    monkeypatch.delenv(ENV_POLL, raising=False)
    monkeypatch.setattr(watchfiles, "watch", broken)
    w = Watcher([lesson]).start(probe=lesson)
    try:
        lesson.write_text("# Intro, edited while polling\n")
        changed, _ = w.next_report()
        assert changed == {lesson}
    finally:
        assert w.close() < 1.0


def test_an_error_in_on_change_is_not_swallowed(lesson: Path, mode: str) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def boom(changed: set[Path]) -> None:
        raise RuntimeError("caller's bug")

    def run() -> None:
        try:
            watch([lesson], boom, stop, poll_interval=POLL_INTERVAL)
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + REPORT_WITHIN
    n = 0
    while thread.is_alive() and time.monotonic() < deadline:
        n += 1
        lesson.write_text("edit\n" * n)
        thread.join(timeout=0.2)
    stop.set()
    thread.join(timeout=5)
    assert [str(e) for e in errors] == ["caller's bug"]


def test_nothing_to_watch_returns_at_once() -> None:
    start = time.monotonic()
    watch([], lambda changed: None, threading.Event())
    assert time.monotonic() - start < 0.5


def test_polling_forced_reads_the_env() -> None:
    assert polling_forced({ENV_POLL: "1"})
    assert not polling_forced({ENV_POLL: "0"})
    assert not polling_forced({})
