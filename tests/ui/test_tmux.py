"""End to end: the installed `autograd-tutor` command in a real terminal (tmux)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from .helpers import FIXTURES, installed_command

TMUX = shutil.which("tmux")


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return done.stdout

    def start(self, shell: str, data: Path, *env: str, width: int = 100, height: int = 30) -> None:
        """A session `app` running `shell`, progress in `data`, `env` as NAME=VALUE; UTF-8
        as it is (-u), whatever the test's own locale."""
        pairs = [f"AUTOGRAD_TUTOR_DATA={data}", f"PATH={os.environ.get('PATH', '')}", *env]
        options = [arg for pair in pairs for arg in ("-e", pair)]
        self("-u", "new-session", "-d", "-s", "app", "-x", str(width), "-y", str(height),
             *options, shell)  # fmt: skip

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app")

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")


@pytest.mark.slow
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_installed_command_in_tmux(tmp_path: Path) -> None:
    command = installed_command()
    tmux = Tmux(f"agt-{uuid.uuid4().hex[:8]}")
    data = tmp_path / "data"
    shell = f"{command} {FIXTURES}; echo AGT-EXIT=$?; sleep 60"
    tmux.start(shell, data)
    try:
        tmux.wait_for("Fixture basics")
        tmux("send-keys", "-t", "app", "Enter")  # open the first lesson
        tmux.wait_for("[1] line 12")
        tmux.wait_for("sandbox:")  # the worker is ready and says how confined the cells are
        tmux("send-keys", "-t", "app", "Enter")  # run the first cell
        shown = tmux.wait_for("✓ ran")
        assert "hello from the cell" in shown
        tmux("send-keys", "-t", "app", "q")
        tmux.wait_for("AGT-EXIT=0", timeout=20)
    finally:
        tmux("kill-server")
    assert (data / "progress.json").exists()
