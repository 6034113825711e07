"""Hostile strings from a cell and a lesson file never reach the terminal raw (issue 19.4).

The same strings (tests/hostile/texts.py) go through every surface: `run` (human and
`--json`), `check`, and the app's every widget (status line, cell headers, output, value,
warning, error title, the inspector's names, the graph's labels and title, plot labels,
lesson prose, notices). The app is checked twice: in Pilot, on the screen Textual
composed (its SVG export holds exactly the characters it would write), and as the
installed command in tmux, where the attacks would take effect: OSC 0 would set the pane's
title, OSC 52 (with tmux's `set-clipboard on`) would fill its paste buffer.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.hostile.texts import TITLE, raw_characters, write_lesson

from .helpers import cells_done, installed_command, open_lesson
from .test_tmux import TMUX, Tmux


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([installed_command(), *args], capture_output=True, timeout=180)


def test_run_and_check_print_hostile_text_visibly(tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path / "lessons")
    human = _run("run", str(lesson))
    shown = human.stdout.decode("utf-8") + human.stderr.decode("utf-8")
    assert raw_characters(shown) == [], shown
    assert "\\x1b]52;c;" in shown and "\\x1b]0;PWNED" in shown and "\\ud800" in shown
    assert human.returncode == 1  # the second cell raises, as a learner's would

    records = _run("run", "--json", str(lesson))
    lines = records.stdout.decode("utf-8").splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)

    check = _run("check", str(lesson))
    said = check.stdout.decode("utf-8") + check.stderr.decode("utf-8")
    assert raw_characters(said) == [] and "\\x1b]0;PWNED" in said


@pytest.mark.anyio
async def test_every_widget_shows_hostile_text_visibly(make_app, tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path / "lessons")
    app = make_app(lesson.parent)
    async with app.run_test(size=(140, 45)) as pilot:
        list_screen = app.export_screenshot()
        await open_lesson(pilot, 1)
        await pilot.press("a")  # run all: output, value, warning, plot, error
        await cells_done(pilot)
        await pilot.press("v")  # the inspector: the hostile variable name
        await pilot.pause()
        await pilot.press("enter")  # its graph: the name in labels and the border title
        await pilot.pause(0.5)
        app.notify("notice \x1b]0;x\x07 from a cell", title="title \x1b]52;c;eA==\x07")
        await pilot.pause(0.2)
        notices = [(n.message, n.title) for n in app._notifications]
        lesson_screen = app.export_screenshot()
    for screen in (list_screen, lesson_screen):
        assert raw_characters(screen) == []
    assert "\\x1b]0;PWNED-TITLE" in lesson_screen  # shown, not obeyed
    # Every notice of every screen passes TutorApp.notify, which keeps it inert.
    assert ("notice \\x1b]0;x\\x07 from a cell", "title \\x1b]52;c;eA==\\x07") in notices


@pytest.mark.slow
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_installed_app_in_tmux_keeps_title_and_clipboard(tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path / "lessons")
    tmux = Tmux(f"agt-{uuid.uuid4().hex[:8]}")
    tmux.start(f"{installed_command()} {lesson}; sleep 60", tmp_path / "data", width=140, height=45)
    try:
        # Both attacks work in this tmux when they reach it raw: the test would see them.
        tmux("set-option", "-g", "set-clipboard", "on")
        tmux("set-option", "-g", "allow-rename", "on")
        before = tmux("display-message", "-p", "-t", "app", "#{pane_title}")
        tmux.wait_for("Hostile")
        tmux("send-keys", "-t", "app", "a")
        tmux.wait_for("✓ ran")
        tmux("send-keys", "-t", "app", "j")  # down to the second cell and its error
        tmux.wait_for("Bad\\x1b]0;")  # the error's class name, shown
        for key in ("v", "Enter"):
            tmux("send-keys", "-t", "app", key)
        tmux.wait_for("autograd graph of")
        assert TITLE not in tmux("display-message", "-p", "-t", "app", "#{pane_title}")
        assert tmux("display-message", "-p", "-t", "app", "#{pane_title}") == before
        assert tmux("list-buffers") == ""  # OSC 52 never reached tmux's clipboard
    finally:
        tmux("kill-server")
