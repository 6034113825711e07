"""Helpers for the app's Pilot tests: wait for the worker, read what a cell shows."""

from __future__ import annotations

import io
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from autograd_tutor.ui.app import TutorApp
from autograd_tutor.ui.screens.lesson import LessonScreen

FIXTURES = Path(__file__).parent / "fixtures"
BASICS = FIXTURES / "01-basics.en.md"
EXERCISE = FIXTURES / "02-exercise.en.md"
# Lessons for the inspector, graph, plot and explorer tests: a folder of their own, so
# the lesson list of the other tests (and its snapshot) stays as it is.
PANELS = Path(__file__).parent / "panel_fixtures"
SIZE = (100, 30)


def fixture_key(lesson_id: str, folder: Path = FIXTURES) -> str:
    """A lesson's key in the progress: its folder and id, so another folder's lesson of the
    same id has progress of its own (`core.progress.lesson_key`)."""
    return f"{folder.resolve()}/{lesson_id}"


def installed_command() -> str:
    """The `autograd-tutor` a user runs: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "autograd-tutor"
    found = str(beside) if beside.exists() else shutil.which("autograd-tutor")
    if found is None:
        pytest.fail("the autograd-tutor command is not installed (pip install -e .)")
    return found


def lesson_screen(pilot: Pilot) -> LessonScreen:
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen), f"expected the lesson view, got {screen!r}"
    return screen


async def wait_for(
    pilot: Pilot, predicate: Callable[[], bool], timeout: float = 30.0, what: str = ""
) -> None:
    """Poll the app (letting it process messages) until `predicate` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.05)


async def cells_done(pilot: Pilot, timeout: float = 60.0) -> None:
    """Every queued cell of every open lesson has run and its result is on screen."""
    app: TutorApp = pilot.app  # type: ignore[assignment]

    def idle() -> bool:
        return all(
            not state.busy
            and not state.pending
            and not any(c.running or c.queued for c in state.cells)
            for state in app.states.values()
        )

    await app.workers.wait_for_complete()
    await wait_for(pilot, idle, timeout, "the cells to finish")
    await pilot.pause()


async def edit_current_cell(pilot: Pilot, code: str) -> None:
    """Open the editor on the cell under the cursor, write `code`, leave it (edit kept)."""
    await pilot.press("e")
    screen = lesson_screen(pilot)
    editor = screen.views[screen.state.cursor].editor
    assert editor is not None, "the editor did not open"
    editor.load_text(code)
    await pilot.press("escape")


async def open_lesson(pilot: Pilot, number: int) -> LessonScreen:
    """From the lesson list, open lesson `number` (1-based) with the keyboard."""
    for _ in range(number - 1):
        await pilot.press("down")
    await pilot.press("enter")
    await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, LessonScreen), what="the lesson view"
    )
    await pilot.pause()
    return lesson_screen(pilot)


def plain(widget: Static) -> str:
    """The text a Static shows (its rich content rendered without colours)."""
    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


def cell_text(pilot: Pilot, index: int) -> str:
    """Header, and output of the cell at `index` in the open lesson, as plain text.

    The output is in two Statics: what the cell printed and its value, then (under its
    plot widgets) the error, its explanation and the exercise line.
    """
    view = lesson_screen(pilot).views[index]
    parts = [view.query_one(".cell-header", Static)]
    for name in (".cell-output", ".cell-after"):
        out = view.query_one(name, Static)
        if out.display:
            parts.append(out)
    return "\n".join(plain(p) for p in parts)
