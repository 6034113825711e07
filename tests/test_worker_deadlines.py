"""A worker that stops answering is treated like a crash: plain words, a fresh session.

Real worker processes; the relay is frozen with SIGSTOP (a stand-in for any way a process
can stop answering), and learner code attacks the relay's channel from inside a cell.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from autograd_tutor.core.runner.client import Session, WorkerError, WorkerHost, deadlines
from tests.workers import ready_host

# Slow lane (frozen relays and hosts, waiting out their deadlines): CI runs it; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow


@pytest.fixture
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadlines, "ANSWER_SLACK", 0.5)
    monkeypatch.setattr(deadlines, "ASK_SECONDS", 1.0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.timeout(60)
def test_a_frozen_relay_ends_the_run_with_a_clear_cause(
    worker_host: WorkerHost, short_deadlines: None
) -> None:
    session = worker_host.new_session()
    relay_pid, cell_pid = session._relay.pid, session.pid

    def freeze_relay(event: dict) -> None:
        if event.get("ev") == "stream":
            os.kill(relay_pid, signal.SIGSTOP)

    started = time.monotonic()
    result = session.run(
        "import time\nprint('working', flush=True)\ntime.sleep(30)",
        timeout=2,
        on_event=freeze_relay,
    )
    assert result.status == "crashed"
    assert result.cause == deadlines.STOPPED_ANSWERING
    assert result.session_ended and not session.alive
    assert result.stdout.startswith("working")  # what came before the freeze is kept
    assert time.monotonic() - started < 2 + 1 + 0.5 + 5  # timeout + grace + slack, loaded
    assert _wait_gone(relay_pid) and _wait_gone(cell_pid)  # nothing of it lives on
    fresh = worker_host.new_session()
    assert fresh.run("1 + 1").value == "2"
    fresh.close()
    session.close()


@pytest.mark.timeout(60)
def test_inspect_of_a_frozen_relay_gives_up(worker_host: WorkerHost, short_deadlines: None) -> None:
    session = worker_host.new_session()
    assert session.run("import torch\nx = torch.ones(2)").status == "ok"
    os.kill(session._relay.pid, signal.SIGSTOP)
    with pytest.raises(WorkerError, match="stopped answering"):
        session.inspect()
    assert not session.alive
    with pytest.raises(WorkerError):
        session.graph("x")  # at once: the session is known to be over
    session.close()


@pytest.mark.timeout(60)
def test_a_cell_that_closes_the_channel_gets_a_fresh_session(worker_host: WorkerHost) -> None:
    session = worker_host.new_session()
    result = session.run("import os, time\nos.close(3)\ntime.sleep(30)", timeout=20)
    assert result.status == "crashed"
    assert "closed its channel" in result.cause
    assert not session.alive
    session.close()


@pytest.mark.timeout(60)
def test_a_cell_that_writes_half_a_frame_still_times_out(worker_host: WorkerHost) -> None:
    """The relay must not wait for the rest of a frame that learner code began: the cell
    times out, and is then known to have broken the protocol (its frame was cut short)."""
    session: Session = worker_host.new_session()
    started = time.monotonic()
    result = session.run(
        "import os, time\nos.write(3, b'\\x00\\x00\\x10\\x00{')\ntime.sleep(30)", timeout=1
    )
    assert result.status == "crashed" and "a frame cut short" in (result.cause or "")
    assert time.monotonic() - started < 10
    assert not session.alive  # the channel is spoiled: this session cannot be trusted again
    session.close()


@pytest.mark.timeout(120)
def test_a_frozen_host_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadlines, "FORK_SECONDS", 1.0)
    with ready_host(keep_spare=False) as h:
        frozen = h._proc
        assert frozen is not None
        os.kill(frozen.pid, signal.SIGSTOP)
        with pytest.raises(WorkerError, match="stopped answering"):
            h.new_session()
        assert frozen.poll() is not None  # killed, not left behind
        monkeypatch.setattr(deadlines, "FORK_SECONDS", 60.0)  # a new host imports torch first
        session = h.new_session()
        assert session.run("2 * 21").value == "42"
        session.close()


@pytest.mark.timeout(60)
def test_a_lesson_goes_on_after_its_worker_stops_answering(
    worker_host: WorkerHost, short_deadlines: None, tmp_path
) -> None:
    """What `run`, `check` and the app do: the next cell gets a fresh session."""
    from autograd_tutor.core.lessonrun import LessonRun
    from autograd_tutor.core.parser import parse_text

    path = tmp_path / "frozen.en.md"
    text = "---\ntitle: Frozen\n---\n\n```python\nx = 1\n```\n\n```python\n"
    text += "import time\nprint('tick', flush=True)\ntime.sleep(30)\n```\n\n```python\n2 + 2\n```\n"
    path.write_text(text)
    lesson = parse_text(text, path)
    run = LessonRun(worker_host, lesson)

    def freeze(event: dict) -> None:
        if event.get("ev") == "stream" and run.session is not None:
            os.kill(run.session._relay.pid, signal.SIGSTOP)

    first, second, third = lesson.cells
    assert run.run_cell(first).status == "ok"
    frozen = run.run_cell(second, timeout=2, on_event=freeze)
    assert (frozen.status, frozen.cause) == ("crashed", deadlines.STOPPED_ANSWERING)
    after = run.run_cell(third)
    assert (after.status, after.value, after.fresh_session) == ("ok", "4", True)
    run.close()


def test_a_closed_host_starts_no_other() -> None:
    """After close(), asking for a session says so instead of starting a new host."""
    host = WorkerHost()
    host.close()
    with pytest.raises(WorkerError, match="closed"):
        host.new_session()
    assert host._proc is None
