"""`serve` keeps its class's host alive (issue 22.1): kill -9 the host, and a new one is
started on the same socket within seconds; the teacher's terminal says so, with a status
line; a learner who connects afterwards gets sessions again."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from tests.classroom.serving import serving
from tests.test_serve_guard import _websocket

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _hosts() -> set[int]:
    """Class hosts on this machine: the runner's host module with a listener argument."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            line = _cmdline(int(entry))
            if "autograd_tutor.core.runner.host" in line and "learner_tabs" in line:
                found.add(int(entry))
    return found


def _wait_for(log: Path, text: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        shown = log.read_text(errors="replace")
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared in the server's output:\n{log.read_text()}")


def test_a_killed_host_is_replaced_and_the_class_goes_on(tmp_path: Path) -> None:
    before = _hosts()
    with serving(tmp_path / "data") as served:
        log = next(tmp_path.glob("serve-*.log"))
        _wait_for(log, "learners online", 30)  # the teacher's status line
        (host,) = _hosts() - before
        os.kill(host, signal.SIGKILL)
        shown = _wait_for(log, "a new worker is ready", 120)
        assert "the class's worker died" in shown
        (successor,) = _hosts() - before
        assert successor != host
        _wait_for(log, "worker replaced 1 times", 30)
        url = served.websocket("carol", "width=100&height=30")
        assert asyncio.run(_websocket(url, served.base, True)) == "answered"
