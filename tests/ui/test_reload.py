"""An author saves the open lesson in another editor: the app follows, and never loses it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.css.query import NoMatches

from .helpers import BASICS, cell_text, cells_done, edit_current_cell, open_lesson, wait_for

pytestmark = pytest.mark.anyio


async def test_open_lesson_reloads_on_save_and_survives_a_broken_save(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOGRAD_TUTOR_POLL", "1")  # the polling fallback, deterministic here
    folder = tmp_path / "lessons"
    folder.mkdir()
    path = folder / BASICS.name
    shutil.copy(BASICS, path)
    app = make_app(folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("enter")
        await cells_done(pilot)
        first_output = cell_text(pilot, 0)
        state = app.states[str(path)]

        text = path.read_text()
        path.write_text(text + "\n```python\nprint('added by the author')\n```\n")
        await wait_for(pilot, lambda: app.states[str(path)] is not state, 10, "the reload")
        new = app.states[str(path)]
        assert len(new.cells) == len(state.cells) + 1
        assert new.run is state.run  # same session: the learner's variables survive

        # An unchanged cell keeps its output on the reloaded screen.
        def shows_first_output() -> bool:
            try:
                return cell_text(pilot, 0) == first_output
            except (IndexError, AssertionError, NoMatches):
                return False  # the new screen is still being composed

        await wait_for(pilot, shows_first_output, 10, "the new screen")

        path.write_text("---\ntitle: [broken\n---\n")
        await wait_for(
            pilot,
            lambda: any("Lesson not reloaded" in (n.title or "") for n in app._notifications),
            10,
            "the warning",
        )
        note = next(n for n in app._notifications if "Lesson not reloaded" in (n.title or ""))
        assert f"{path}:2:" in note.message
        assert app.states[str(path)] is new  # the last good version stays open


async def test_an_edited_cell_the_author_changes_keeps_the_learners_code(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOGRAD_TUTOR_POLL", "1")
    folder = tmp_path / "lessons"
    folder.mkdir()
    path = folder / BASICS.name
    shutil.copy(BASICS, path)
    app = make_app(folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await edit_current_cell(pilot, "import torch  # the learner's")
        state = app.states[str(path)]
        path.write_text(path.read_text().replace("import torch\n", "import torch  # v2\n", 1))
        await wait_for(pilot, lambda: app.states[str(path)] is not state, 10, "the reload")
        cs = app.states[str(path)].cells[0]
        assert cs.cell.source.startswith("import torch  # v2")
        assert cs.code == "import torch  # the learner's" and cs.stale

        def marked_stale() -> bool:
            try:
                return "edited (from older lesson code)" in cell_text(pilot, 0)
            except (IndexError, AssertionError, NoMatches):
                return False  # the new screen is still being composed

        await wait_for(pilot, marked_stale, 10, "the reloaded screen")
