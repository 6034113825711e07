"""Exercises: the check runs after the exercise cell; hints one at a time; the solution."""

from __future__ import annotations

import pytest

from .helpers import cell_text, cells_done, fixture_key, lesson_screen, open_lesson

pytestmark = pytest.mark.anyio


async def test_exercise_runs_its_check_and_says_not_solved(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 2)
        await pilot.press("down", "u")  # setup cell, then the exercise (and its check)
        await cells_done(pilot)
        check = screen.state.cells[2]
        assert check.result is not None and check.result.solved is False
        text = cell_text(pilot, 1)
        assert "✗ Not solved yet: y must be x * 2" in text
        assert "h: hint (0/2 shown)" in text
        assert "✗ not solved" in cell_text(pilot, 2)
        assert not screen.hint_views["double"][0].display  # hints only when revealed


async def test_hints_one_at_a_time_then_solution(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 2)
        await pilot.press("down")
        hints = screen.hint_views["double"]
        solution = screen.views[3]
        assert solution.hidden_solution
        await pilot.press("h")
        assert [h.display for h in hints] == [True, False]
        await pilot.press("h")
        assert [h.display for h in hints] == [True, True]
        await pilot.press("h")  # no third hint: says so, nothing breaks
        await pilot.press("s")
        assert not solution.hidden_solution
        assert screen.state.cursor == 3
        assert "y = x * 2" in str(solution.query_one(".cell-code").content.code)
        await pilot.press("enter")  # a solution is for reading, not for running
        await pilot.pause()
        assert screen.state.cells[3].result is None


async def test_solving_marks_progress_and_shows_the_solution(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 2)
        await pilot.press("enter", "down", "e")
        view = screen.views[1]
        assert view.editor is not None
        view.editor.load_text("y = x * 2")
        await pilot.press("escape", "enter")
        await cells_done(pilot)
        assert "★ Solved!" in cell_text(pilot, 1)
        assert "✓ solved" in cell_text(pilot, 2)
        assert "double" in app.progress.solved(fixture_key("exercise"))
        assert not screen.views[3].hidden_solution  # shown after solving
        assert lesson_screen(pilot).state.cursor == 1  # the learner decides when to move on


async def test_check_and_solution_cells_are_not_edited(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 2)
        screen.move_to(2)
        await pilot.press("e")
        assert screen.views[2].editor is None
