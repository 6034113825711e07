"""core.autorun and core.edits: which cells run first, and where kept edits go back (no worker)."""

from __future__ import annotations

from pathlib import Path

from autograd_tutor.core.autorun import cells_first, spans
from autograd_tutor.core.edits import Edit, place
from autograd_tutor.core.parser import parse_text

LESSON = """---
title: Flow
id: flow
---

# Flow

```python
import torch
```

```python tags=["standalone"]
%timeit torch.ones(3)
```

```python tags=["raises-exception"]
torch.tensor(1.0).backward()
```

```python tags=["skip-execution"]
while True: pass
```

```python
x = torch.ones(2)
```

```python exercise="double"
y = None
```

```python check="double"
assert y is not None
```

```python solution="double"
y = x * 2
```

```python
z = x + 1
```
"""
IMPORT, STANDALONE, RAISES, SKIPPED, X, EXERCISE, CHECK, SOLUTION, AFTER = range(9)


def cells():  # noqa: ANN201
    return parse_text(LESSON, Path("01-flow.en.md")).cells


def test_the_standalone_tag_is_read() -> None:
    assert [c.standalone for c in cells()] == [c == STANDALONE for c in range(9)]


def test_a_fresh_session_runs_the_needed_cells_above_in_order() -> None:
    # Not the standalone, skipped, exercise, check or solution cells; the raising one, yes.
    assert cells_first(cells(), AFTER, ran=()) == [IMPORT, RAISES, X]
    assert cells_first(cells(), EXERCISE, ran=()) == [IMPORT, RAISES, X]
    assert cells_first(cells(), IMPORT, ran=()) == []


def test_cells_that_ran_or_are_queued_are_not_asked_for_again() -> None:
    assert cells_first(cells(), AFTER, ran={IMPORT, RAISES}) == [X]
    assert cells_first(cells(), AFTER, ran={IMPORT}, queued={X}) == [RAISES]
    assert cells_first(cells(), AFTER, ran={IMPORT, RAISES, X}) == []


def test_spans_number_cells_as_the_headers_do() -> None:
    assert spans([0, 1, 2, 3, 5]) == [(1, 4), (6, 6)]
    assert spans([]) == []


def test_edits_go_back_to_their_cell() -> None:
    lesson = cells()
    placed = place(lesson, {X: Edit("x = 3", lesson[X].source)})
    assert placed.edits == {X: Edit("x = 3", lesson[X].source)}
    assert not placed.stale and placed.unplaced == 0


def test_an_edit_follows_its_cell_when_cells_moved() -> None:
    lesson = cells()
    # Kept as cell 2 when the lesson had one cell fewer above: its base is cell X's code.
    placed = place(lesson, {X - 1: Edit("x = 3", lesson[X].source)})
    assert placed.edits == {X: Edit("x = 3", lesson[X].source)} and not placed.stale


def test_an_edit_of_changed_lesson_code_is_kept_and_said_to_be_stale() -> None:
    lesson = cells()
    placed = place(lesson, {X: Edit("x = 3", "x = torch.zeros(2)")})
    assert placed.edits == {X: Edit("x = 3", "x = torch.zeros(2)")}
    assert placed.stale == {X}


def test_an_edit_no_cell_can_take_is_counted() -> None:
    lesson = cells()
    placed = place(lesson, {40: Edit("a = 1", "a = 0"), CHECK: Edit("pass", "old check")})
    assert placed.edits == {} and placed.unplaced == 2


def test_an_answered_exercise_above_runs_with_the_learners_code() -> None:
    # Its check does not: the learner did not ask for a verdict (ui/state.py leaves it out).
    assert cells_first(cells(), AFTER, ran=(), answered={EXERCISE}) == [IMPORT, RAISES, X, EXERCISE]
