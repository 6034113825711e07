"""End to end, the curriculum's must-show: solve an exercise, quit, come back to it.

The installed `autograd-tutor` command runs in a real terminal (tmux), twice, with the same
fresh AUTOGRAD_TUTOR_DATA: the second start must open the lesson at the cell the learner
left, with the exercise marked solved in the lesson view and ★ in the list.

Every wait polls `tmux capture-pane` against a deadline and, on timeout, fails with what
the screen showed, so a hang is a readable failure, never a stuck test run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from .helpers import FIXTURES, fixture_key, installed_command

TMUX = shutil.which("tmux")
WORKER_READY = 90.0  # the first start imports torch: slow on a cold, loaded machine
STEP = 20.0  # anything else the app is asked to do

pytestmark = [pytest.mark.slow, pytest.mark.skipif(TMUX is None, reason="tmux is not installed")]


class Terminal:
    """A tmux server of our own (its own socket) per start, one window running the app."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.socket = ""
        self.sockets: list[str] = []

    def tmux(self, *args: str, check: bool = False) -> str:
        done = subprocess.run(
            [str(TMUX), "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args[:1])} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, *args: str) -> None:
        """Run the command in a fresh session; its exit code is printed when it ends."""
        # A new server on a new socket each time: one killed just before may still be
        # exiting, and a new session sent to it is lost (or gets the default 80x24).
        if self.socket:
            self.tmux("kill-server")
        self.socket = f"agt-resume-{uuid.uuid4().hex[:8]}"
        self.sockets.append(self.socket)
        line = " ".join([installed_command(), *args])
        self.tmux(
            "new-session",
            "-d",
            "-s",
            "app",
            "-x",
            "100",
            "-y",
            "30",
            "-e",
            f"AUTOGRAD_TUTOR_DATA={self.data}",
            "-e",
            f"PATH={os.environ.get('PATH', '')}",
            # English lessons whatever the machine's locale, and UTF-8 for ★ and friends.
            "-e",
            "LC_ALL=C.UTF-8",
            f"{line}; echo AGT-EXIT=$?; sleep 120",
            check=True,
        )

    def size(self) -> str:
        return self.tmux("display-message", "-p", "-t", "app", "#{window_width}x#{window_height}")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "app", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "app", "-l", text)  # literally: no key names

    def wait_for(self, *texts: str, timeout: float = STEP, gone: str | None = None) -> str:
        """Until every one of `texts` is on screen (and `gone`, if given, is not)."""
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if all(t in shown for t in texts) and (gone is None or gone not in shown):
                return shown
            time.sleep(0.1)
        want = ", ".join(repr(t) for t in texts) + (f", without {gone!r}" if gone else "")
        raise AssertionError(f"timed out after {timeout} s waiting for {want}; screen:\n{shown}")

    def close(self) -> None:
        for socket in self.sockets:
            self.socket = socket
            self.tmux("kill-server")
            # tmux leaves its socket file behind; it lives at tmux's default place.
            tmpdir = os.environ.get("TMUX_TMPDIR", "/tmp")
            Path(tmpdir, f"tmux-{os.getuid()}", socket).unlink(missing_ok=True)


def line_with(screen: str, text: str) -> str:
    return next((line for line in screen.splitlines() if text in line), "")


def test_a_solved_exercise_is_there_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    term = Terminal(data)
    try:
        # -- first visit: open the exercise lesson, solve it, quit -------------------------
        term.start(str(FIXTURES))
        shown = term.wait_for("Fixture exercise", timeout=WORKER_READY)
        assert term.size().strip() == "100x30"
        assert "☆ 0/1 exercises solved" in line_with(shown, "Fixture exercise")
        term.keys("Down", "Enter")  # the second lesson in the list
        # The lesson view, and the worker ready to run cells ("sandbox: ..." replaces
        # "worker: starting").
        term.wait_for("Fixture exercise · cell 1/4", "sandbox:", timeout=WORKER_READY)
        term.keys("j")
        term.wait_for("cell 2/4")
        term.keys("e")
        term.wait_for("Done editing")  # the footer of the editor: it has the focus
        term.keys("C-k")  # the editor's cursor is at the start: delete the starter line
        term.type("y = x * 2")
        term.wait_for("y = x * 2", gone="TODO")
        term.keys("Escape")
        term.wait_for("Run to here")  # the lesson's footer again
        term.keys("u")  # run up to here: the setup cell, the exercise, then its check
        shown = term.wait_for("★ Solved!", "✓ solved", timeout=60)
        term.keys("q")
        term.wait_for("AGT-EXIT=0")
        saved = json.loads((data / "progress.json").read_text())
        assert saved["last"] == {"lesson": fixture_key("exercise"), "cell": 1, "lang": "en"}
        assert saved["lessons"][fixture_key("exercise")]["solved"] == ["double"]

        # -- second start, the same folder and nothing else: back where the learner was -----
        term.start(str(FIXTURES))
        shown = term.wait_for("Fixture exercise · cell 2/4", timeout=WORKER_READY)
        assert term.size().strip() == "100x30"
        # Marked solved in the lesson view, without running anything: the verdict comes
        # from the saved progress (no cell has run in this session).
        shown = term.wait_for("★ Solved")
        assert "✎ Exercise: edit" not in shown
        assert "Not solved" not in shown

        term.keys("l")  # the list: ★ beside the lesson
        shown = term.wait_for("autograd-tutor · ", "Fixture basics")
        assert "★ 1/1 exercises solved" in line_with(shown, "Fixture exercise")
        term.keys("q")
        term.wait_for("AGT-EXIT=0")
    finally:
        term.close()


def test_an_edited_cell_is_there_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    term = Terminal(data)
    try:
        # -- first visit: edit the first cell of the first lesson, quit ----------------------
        term.start(str(FIXTURES))
        term.wait_for("Fixture basics", timeout=WORKER_READY)
        term.keys("Enter")
        term.wait_for("Fixture basics · cell 1/6", "sandbox:", timeout=WORKER_READY)
        assert "· edited" not in term.screen()
        term.keys("e")
        term.wait_for("Done editing")
        term.keys("End")  # after `import torch`, on the first line
        term.type("  # my own note")
        term.wait_for("import torch  # my own note")
        term.keys("Escape")
        shown = term.wait_for("Run to here")
        assert "· edited" in line_with(shown, "[1]")
        term.keys("q")
        term.wait_for("AGT-EXIT=0")
        saved = json.loads((data / "progress.json").read_text())
        kept = saved["lessons"][fixture_key("basics")]["edits"]["en"]["0"]
        assert kept["code"].startswith("import torch  # my own note\n")

        # -- second start: back in the lesson, with the edit and its mark ---------------------
        term.start(str(FIXTURES))
        shown = term.wait_for("Fixture basics · cell 1/6", "# my own note", timeout=WORKER_READY)
        assert "· edited" in line_with(shown, "[1]")
        term.keys("x")  # the lesson's code again, and the kept edit goes
        shown = term.wait_for("import torch", gone="# my own note")
        assert "· edited" not in line_with(shown, "[1]")
        term.keys("q")
        term.wait_for("AGT-EXIT=0")
        saved = json.loads((data / "progress.json").read_text())
        assert not saved["lessons"][fixture_key("basics")]["edits"].get("en")
    finally:
        term.close()
