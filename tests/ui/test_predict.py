"""Predict, then run (Pilot, real worker): the question before the cell, the guess beside
the truth after it, progress and the lesson list's count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograd_tutor.ui.widgets.predict import PredictPrompt

from .helpers import (
    cell_text,
    cells_done,
    fixture_key,
    lesson_screen,
    open_lesson,
    plain,
    wait_for,
)

pytestmark = pytest.mark.anyio

FOLDER = Path(__file__).parent / "predict_fixtures"


async def answer(pilot, guess: str) -> None:
    """Run the cell under the cursor, and answer its question with `guess`."""
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PredictPrompt), what="the question")
    await pilot.press(*guess, "enter")


async def test_a_right_prediction_is_shown_recorded_and_counted(make_app, data_dir: Path) -> None:
    app = make_app(FOLDER)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        assert "🔮 predict, then run" in cell_text(pilot, 0)
        assert "🔮" not in cell_text(pilot, 2)  # a plain cell
        await answer(pilot, "6")
        await cells_done(pilot)
        assert lesson_screen(pilot) is screen
        text = cell_text(pilot, 0)
        assert "Your prediction: 6" in text and "the cell: 6.0" in text and "✓ right" in text
        assert "The derivative of x² is 2x" in text
        await pilot.press("down")
        await answer(pilot, "yes")
        await cells_done(pilot)
        text = cell_text(pilot, 1)
        assert "the cell: raises an error" in text and "✓ right" in text
        await pilot.press("enter")  # asked once: the second run goes straight to the cell
        await pilot.pause()
        assert not isinstance(app.screen, PredictPrompt)
        await cells_done(pilot)
        await pilot.press("l")
        await pilot.pause()
        first = app.screen.query_one("OptionList").get_option_at_index(0)
        assert "2/2 predictions (2 right)" in str(first.prompt)
    saved = json.loads((data_dir / "progress.json").read_text())["lessons"][fixture_key("guess", FOLDER)]
    assert saved["predictions"] == {
        "x-grad": {"guess": "6", "right": True},
        "again": {"guess": "yes", "right": True},
    }


async def test_a_wrong_prediction_shows_the_truth(make_app) -> None:
    app = make_app(FOLDER)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await answer(pilot, "tensor(9.)")
        await cells_done(pilot)
        text = cell_text(pilot, 0)
        assert "Your prediction: tensor(9.)" in text and "the cell: 6.0" in text
        assert "✗ not quite" in text and "✓ right" not in text
        assert app.progress.predictions(fixture_key("guess", FOLDER)) == {"x-grad": ("tensor(9.)", False)}


async def test_an_unreadable_guess_is_asked_again_and_escape_runs_without_one(make_app) -> None:
    app = make_app(FOLDER)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await answer(pilot, "six")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PredictPrompt)  # still asking, saying what to write
        assert "a number, e.g. 2 or 0.5" in plain(prompt.query_one("#predict-problem"))
        assert screen.state.cells[0].result is None  # nothing ran
        await pilot.press("escape")
        await cells_done(pilot)
        assert "You ran it without a prediction.   the cell: 6.0" in cell_text(pilot, 0)
        assert app.progress.predictions(fixture_key("guess", FOLDER)) == {}
        await pilot.press("down", "down", "enter")  # a cell without a prediction just runs
        await cells_done(pilot)
        assert "plain cell" in cell_text(pilot, 2) and "prediction" not in cell_text(pilot, 2)


async def test_a_cell_that_gives_nothing_to_compare_is_judged_by_the_answer_key(make_app) -> None:
    app = make_app(FOLDER)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("e")
        view = screen.views[0]
        assert view.editor is not None
        view.editor.load_text("x = 1 / 0")  # the learner's edit breaks the cell
        await pilot.press("escape")
        await answer(pilot, "6")
        await cells_done(pilot)
        text = cell_text(pilot, 0)
        assert "ZeroDivisionError" in text
        assert "Your prediction: 6   the lesson's answer: 6.0   ✓ right" in text
