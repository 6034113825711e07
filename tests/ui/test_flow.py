"""The learner's flow through a lesson: the cells above run first in a fresh session, and
edited cells outlive the app (real worker, Pilot)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import (
    BASICS,
    cell_text,
    cells_done,
    edit_current_cell,
    fixture_key,
    lesson_screen,
    open_lesson,
    wait_for,
)

FLOW = Path(__file__).parent / "flow_fixtures"

pytestmark = pytest.mark.anyio


def record_notices(app) -> list[str]:  # noqa: ANN001
    """Every message the app is asked to notify, kept: on a loaded machine a notification
    may have timed out of `app._notifications` before the test looks."""
    said: list[str] = []
    notify = app.notify

    def recorded(message: str, **options) -> None:  # noqa: ANN003
        said.append(message)
        notify(message, **options)

    app.notify = recorded
    return said


async def test_an_exercise_in_a_fresh_session_runs_the_cells_above_first(make_app) -> None:
    app = make_app()
    said = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 2)
        await pilot.press("down")
        await edit_current_cell(pilot, "y = x * 2")  # uses torch and x, both from cell 1
        await pilot.press("enter")
        await cells_done(pilot)
        assert any("Running cell 1 first" in m and "i stops it" in m for m in said)
        setup, check = screen.state.cells[0], screen.state.cells[2]
        assert setup.result is not None and setup.result.status == "ok"
        assert check.result is not None and check.result.solved, cell_text(pilot, 2)
        assert "double" in screen.state.solved
        # Run again: cell 1 ran in this session, so nothing runs first this time.
        count = len(said)
        await pilot.press("enter")
        await cells_done(pilot)
        assert not any("first" in m for m in said[count:])


async def test_interrupt_stops_the_cells_run_first_and_the_cell_asked_for(make_app) -> None:
    app = make_app(FLOW)
    said = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: "setting up 2" in cell_text(pilot, 0), what="cell 1 runs")
        assert screen.state.cells[1].queued
        assert any("Running cell 1 first" in m for m in said)
        await pilot.press("i")
        await cells_done(pilot, timeout=20)
        setup, target = screen.state.cells
        assert setup.result is not None and setup.result.interrupted
        assert target.result is None and not target.queued  # it never ran
        assert "not run yet" in cell_text(pilot, 1)
        assert screen.state.queue.ran == frozenset()


async def test_an_unexpected_error_above_stops_the_chain_with_a_notice(make_app) -> None:
    app = make_app(FLOW)
    said = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 2)
        await pilot.press("down", "down", "down", "enter")
        await cells_done(pilot)
        assert any("Running cells 1–3 first" in m for m in said)
        cells = screen.state.cells
        # The raising cell raised as the lesson says, and the chain went on past it.
        assert cells[1].result is not None and cells[1].result.expected
        assert cells[2].result is not None and cells[2].result.error is not None
        assert cells[2].result.error.type == "NameError"
        assert cells[3].result is None and not cells[3].queued
        assert any(
            "Cell 3 did not run as the lesson expects, so cell 4 did not run" in m for m in said
        )


@pytest.mark.slow  # two app runs, one after the other: about 6 s here
async def test_an_edit_outlives_the_app_and_x_puts_the_lesson_code_back(
    make_app, data_dir: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        # leaving the editor keeps the edit in the progress
        await edit_current_cell(pilot, 'print("kept across restarts")')
        saved = json.loads((data_dir / "progress.json").read_text())
        edits = saved["lessons"][fixture_key("basics")]["edits"]["en"]
        assert edits["0"]["code"] == 'print("kept across restarts")'
        await pilot.press("q")

    again = make_app()
    async with again.run_test(size=(100, 30)) as pilot:
        # Resumed in the lesson: the edit is there, and the header says so.
        await wait_for(pilot, lambda: hasattr(pilot.app.screen, "views"), what="the lesson")
        screen = lesson_screen(pilot)
        cs = screen.state.cells[0]
        assert cs.code == 'print("kept across restarts")' and cs.edited
        assert "· edited" in cell_text(pilot, 0)
        assert "· edited" not in cell_text(pilot, 1)
        await pilot.press("x")
        assert cs.code == cs.cell.source and "· edited" not in cell_text(pilot, 0)
        await pilot.press("q")
    assert again.progress.edits(fixture_key("basics"), "en") == {}


async def test_an_edit_of_older_lesson_code_is_kept_and_said_so(make_app, data_dir: Path) -> None:
    from autograd_tutor.core.edits import Edit
    from autograd_tutor.core.progress import Progress

    progress = Progress.load()
    progress.keep_edit(fixture_key("basics"), "en", 0, Edit("x = 5", "x = 4  # older lesson"))
    progress.keep_edit(fixture_key("basics"), "en", 40, Edit("a = 1", "a = 0"))
    progress.save()
    app = make_app(BASICS)
    said = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: hasattr(pilot.app.screen, "views"), what="the lesson")
        assert lesson_screen(pilot).state.cells[0].code == "x = 5"
        assert "edited (from older lesson code)" in cell_text(pilot, 0)
        shown = "\n".join(said)
        assert "Your edit of cell 1 was made on an older version of this lesson" in shown
        assert "1 kept edit fits no cell of this lesson any more" in shown
