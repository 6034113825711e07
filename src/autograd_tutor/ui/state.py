"""What the app knows about an open lesson, apart from how it is drawn (no Textual here).

The state outlives its screen: going to the next lesson and back keeps the outputs, the
edits, the revealed hints and the session with its variables.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from autograd_tutor.core.lesson import CodeCell, Lesson
from autograd_tutor.core.lessonrun import LessonRun
from autograd_tutor.core.results import CellResult


@dataclass
class CellState:
    cell: CodeCell
    code: str
    result: CellResult | None = None  # the last run's, explained by the core
    queued: bool = False
    running: bool = False
    started: float = 0.0
    # (stream name, text) pieces appended by the worker thread while the cell runs; the UI
    # reads them on a timer, which throttles repaints however fast the cell prints.
    live: list[tuple[str, str]] = field(default_factory=list)
    # The latest plot per key while the cell runs (a loss curve grows as the cell goes).
    live_plots: dict[str, dict[str, Any]] = field(default_factory=dict)
    # For exercise cells: {"solved": bool, "message": str} once the check has run.
    verdict: dict[str, Any] | None = None

    @property
    def edited(self) -> bool:
        return self.code != self.cell.source

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.running else 0.0

    @property
    def runnable(self) -> bool:
        """Solutions are for reading: running one would solve the exercise for the learner."""
        return self.cell.role != "solution"

    @property
    def editable(self) -> bool:
        return self.cell.role in ("code", "exercise")


@dataclass
class LessonState:
    lesson: Lesson
    run: LessonRun
    cells: list[CellState]
    cursor: int = 0
    hints_shown: dict[str, int] = field(default_factory=dict)
    solutions_shown: set[str] = field(default_factory=set)
    solved: set[str] = field(default_factory=set)
    # Work for the runner thread: ("run", index, code) or ("restart",).
    pending: deque[tuple[Any, ...]] = field(default_factory=deque)
    busy: bool = False
    # Said once at the top of the lesson after a restart or a dead session.
    notice: str | None = None
    # The inspector's rows (`Session.inspect()` after the last cell) and the names that
    # cell created or changed (`introspect.changed`). Set on the UI thread only.
    tensors: list[dict[str, Any]] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    # The graph panel: the tensor it follows (None: closed), the variable and operation an
    # error came from (highlighted), and the latest graph dict from `Session.graph`. The
    # runner thread reads `graph_target` after each cell to refresh the open graph (a plain
    # attribute read: no lock needed).
    graph_target: str | None = None
    graph_highlight: str | None = None
    graph_highlight_op: str | None = None
    graph: dict[str, Any] | None = None

    @classmethod
    def create(cls, lesson: Lesson, run: LessonRun) -> LessonState:
        return cls(lesson, run, [CellState(c, c.source) for c in lesson.cells])

    def restore_solved(self, names: set[str]) -> None:
        """Exercises solved in an earlier visit stay solved, with their solution to compare."""
        for name in names & {e.name for e in self.lesson.exercises}:
            self.solved.add(name)
            self.solutions_shown.add(name)
            starter = self.cell_of(name, "exercise")
            if starter is not None:
                starter.verdict = {"solved": True, "message": "solved in an earlier session"}

    @property
    def key(self) -> str:
        return str(self.lesson.path)

    @property
    def running(self) -> CellState | None:
        return next((c for c in self.cells if c.running), None)

    def exercise_of(self, index: int) -> str | None:
        """The exercise the cell at `index` belongs to, else the next one after it."""
        cells = self.lesson.cells
        if cells[index].exercise:
            return cells[index].exercise
        return next((c.exercise for c in cells[index:] if c.role == "exercise"), None)

    def cell_of(self, exercise: str, role: str) -> CellState | None:
        return next(
            (c for c in self.cells if c.cell.exercise == exercise and c.cell.role == role), None
        )

    def batch(self, upto: int, *, with_target: bool = True) -> list[int]:
        """Cells that `run up to here` (and `run all`) run, in order.

        Solutions are left out, and so is a check whose exercise is in the batch too (the
        exercise runs its check). Skip-execution cells are left out, except the target cell
        of `run up to here` (`with_target`): asking for that cell is asking to run it.
        """
        chosen = []
        exercises = set()
        for state in self.cells[: upto + 1]:
            cell = state.cell
            if cell.role == "solution" or (
                cell.skipped and not (with_target and cell.index == upto)
            ):
                continue
            if cell.role == "check" and cell.exercise in exercises:
                continue
            if cell.role == "exercise":
                exercises.add(cell.exercise)
            chosen.append(cell.index)
        return chosen
