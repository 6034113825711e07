"""Exercises: the check runs after the exercise cell; hints one at a time; the solution."""

from __future__ import annotations

import pytest

from .helpers import (
    cell_text,
    cells_done,
    edit_current_cell,
    fixture_key,
    lesson_screen,
    open_lesson,
)

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


WRONG_LESSON = """---
title: Hidden wrong answers
id: hidden-wrong
---

```python
import torch
x = torch.tensor([1.0, 2.0])
```

```python exercise="twice"
y = None
```

```hint
Multiply?
```

```python check="twice"
assert y is not None and torch.equal(y, x * 2), "y must be x * 2"
```

```python solution="twice"
y = x * 2
```

```python wrong="twice"
leaked_by_wrong_answer = "never shown"
y = x + 2
```

```python
print("wrong ran:", "leaked_by_" + "wrong_answer" in globals())
```
"""


async def test_wrong_answers_are_never_shown_nor_run(make_app, tmp_path) -> None:
    from textual.widgets import Markdown

    (tmp_path / "01-hidden.en.md").write_text(WRONG_LESSON, encoding="utf-8")
    app = make_app(tmp_path / "01-hidden.en.md")
    async with app.run_test(size=(100, 50)) as pilot:
        screen = lesson_screen(pilot)
        assert len(screen.views) == 5  # setup, exercise, check, solution, the last cell
        await pilot.press("down", "s")  # the solution shown: its wrong answers stay hidden
        await pilot.press("a")  # run all
        await cells_done(pilot)
        assert "wrong ran: False" in cell_text(pilot, 4)
        shown = [cs.code for cs in screen.state.cells]
        shown += [str(m.source) for m in screen.query(Markdown)]
        shown += [cell_text(pilot, i) for i in range(len(screen.views))]
        shown.append(app.export_screenshot().replace("&#160;", " "))
        assert not [text for text in shown if "leaked_by_wrong_answer" in text or "x + 2" in text]


READS_CODE = """---
title: A check that reads the code
id: reads-code
---

```python
import torch
x = torch.tensor([1.0, 2.0])
```

```python exercise="mine"
y = None
```

```python check="mine"
from autograd_tutor.check import learner_code
assert "# mine" in learner_code(), "the check must see the learner's cell"
assert torch.equal(y, x * 2), "y must be x * 2"
```

```python solution="mine"
y = x * 2  # mine
```

```python
z = 1
```
"""


async def test_the_check_reads_the_learners_exercise_cell_even_run_on_its_own(
    make_app, tmp_path
) -> None:
    (tmp_path / "01-reads.en.md").write_text(READS_CODE, encoding="utf-8")
    app = make_app(tmp_path / "01-reads.en.md")
    async with app.run_test(size=(100, 40)) as pilot:
        screen = lesson_screen(pilot)
        screen.move_to(1)
        await edit_current_cell(pilot, "y = x * 2  # mine")
        await pilot.press("enter")
        await cells_done(pilot)
        assert screen.state.cells[2].result is not None and screen.state.cells[2].result.solved
        screen.move_to(4)
        await pilot.press("enter")  # another cell runs after the exercise
        await cells_done(pilot)
        screen.move_to(2)
        await pilot.press("enter")  # the check on its own: its exercise runs first
        await cells_done(pilot)
        result = screen.state.cells[2].result
        assert result is not None and result.solved, cell_text(pilot, 2)
