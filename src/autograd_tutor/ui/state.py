"""What the app knows about an open lesson, apart from how it is drawn (no Textual here).

The state outlives its screen: going to the next lesson and back keeps the outputs, the
edits, the revealed hints and the session with its variables. It owns the lesson's run queue
(`core.runqueue`): the screen asks the state to run cells, the app applies the queue's events
to the state on the UI thread, then tells the state's `view` (the screen showing it, if any).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from autograd_tutor.core.autorun import cells_first
from autograd_tutor.core.edits import Edit, Placed
from autograd_tutor.core.lesson import CodeCell, Lesson
from autograd_tutor.core.lessonrun import LessonRun
from autograd_tutor.core.progress import lesson_key
from autograd_tutor.core.results import CellResult
from autograd_tutor.core.runqueue import Interruption, LiveOutput, Request, RunCell, RunQueue


class LessonView(Protocol):
    """What shows a lesson (the lesson screen registers itself as its state's `view` while
    mounted): told on the UI thread what changed in the state, it repaints that."""

    def repaint_cell(self, index: int) -> None: ...

    def paint_if_busy_soon(self, index: int) -> None: ...

    def cell_finished(self, index: int, others: bool = True) -> None: ...

    def show_tensors(self) -> None: ...

    def show_graph(self) -> None: ...


@dataclass(frozen=True)
class Judgement:
    """A check's verdict on its exercise; `first`: solved now and not before."""

    exercise: str
    solved: bool
    first: bool


@dataclass
class PanelChoices:
    """The learner's panels for every lesson, not one lesson's: an open inspector stays open
    from lesson to lesson. The app holds one; each lesson screen's panels share it."""

    inspector_open: bool = False


@dataclass
class CellState:
    cell: CodeCell
    code: str
    result: CellResult | None = None  # the last run's, explained by the core
    queued: bool = False
    running: bool = False
    started: float = 0.0
    # (stream name, text) pieces appended by the run queue's thread while the cell runs
    # (`LiveOutput`); the UI reads them on a timer, which throttles repaints however fast
    # the cell prints.
    live: list[tuple[str, str]] = field(default_factory=list)
    # The latest plot per key while the cell runs (a loss curve grows as the cell goes).
    live_plots: dict[str, dict[str, Any]] = field(default_factory=dict)
    # For exercise cells: {"solved": bool, "message": str} once the check has run.
    verdict: dict[str, Any] | None = None
    # The lesson's code a kept edit was made on, when the lesson file has changed since
    # (`core.edits.place`); None: the edit, if any, is of the cell's code as it is now.
    edit_base: str | None = None

    @property
    def edited(self) -> bool:
        return self.code != self.cell.source

    @property
    def stale(self) -> bool:
        """Edited from lesson code that is no longer the cell's: the lesson changed since."""
        return self.edited and self.edit_base is not None and self.edit_base != self.cell.source

    @property
    def edit(self) -> Edit | None:
        """What the progress keeps of this cell: None when it has the lesson's code."""
        if not self.edited or not self.editable:
            return None
        return Edit(self.code, self.edit_base if self.stale else self.cell.source)

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
    queue: RunQueue
    cells: list[CellState]
    cursor: int = 0
    hints_shown: dict[str, int] = field(default_factory=dict)
    solutions_shown: set[str] = field(default_factory=set)
    solved: set[str] = field(default_factory=set)
    # Predictions made this visit: name -> the guess as typed ("" when run without one).
    guesses: dict[str, str] = field(default_factory=dict)
    # True from the moment work is asked for until the app has handled the queue's
    # QueueIdle: the queue's own thread may be done while its last events still wait on
    # the UI thread, and until those are drawn the lesson is not idle. UI thread only.
    busy: bool = False
    # Said once at the top of the lesson after a restart or a dead session.
    notice: str | None = None
    # The inspector's rows (`Session.inspect()` after the last cell) and the names that
    # cell created or changed (`introspect.changed`). Set on the UI thread only.
    tensors: list[dict[str, Any]] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    # The graph panel: the variable and operation an error came from (highlighted), and
    # the latest graph dict from `Session.graph`; the tensor it follows is the queue's.
    graph_highlight: str | None = None
    graph_highlight_op: str | None = None
    graph: dict[str, Any] | None = None
    # The screen showing this lesson while it is mounted (see LessonView); not compared.
    view: LessonView | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, lesson: Lesson, queue: RunQueue) -> LessonState:
        queue.follow_graph(None)  # a new state shows no graph, also with a carried-over queue
        return cls(lesson, queue, [CellState(c, c.source) for c in lesson.cells])

    @property
    def run(self) -> LessonRun:
        return self.queue.run

    @property
    def pending(self) -> tuple[Request, ...]:
        """Work asked for that the queue has not begun."""
        return self.queue.pending

    @property
    def graph_target(self) -> str | None:
        """The tensor whose graph is open (None: closed): the queue refreshes it after cells."""
        return self.queue.followed_graph

    # -- asking the queue (UI thread) ------------------------------------------------------

    def run_with_setup(self, index: int, timeout: float) -> list[int]:
        """Run the cell, after the cells above it that it needs and that have not run in
        this session (`core.autorun`); answers those, which run first.

        A check asked for runs its exercise with it, as the learner has it now: a check
        judges the learner's code, which it reads as the cell run just before it
        (`autograd_tutor.check.learner_code()`)."""
        cell = self.cells[index].cell
        exercise = self.cell_of(cell.exercise, "exercise") if cell.exercise else None
        if cell.role == "check" and exercise is not None:
            index = exercise.cell.index
        busy = [c.cell.index for c in self.cells if c.queued or c.running]
        answered = [c.cell.index for c in self.cells if c.cell.role == "exercise" and c.edited]
        first = cells_first(self.lesson.cells, index, self.queue.ran, busy, answered)
        self.run_cells([*first, index], timeout, chain=index if first else None)
        return first

    def run_cells(self, indices: list[int], timeout: float, chain: int | None = None) -> None:
        """Queue these cells, each with the code it has now; an exercise brings its check.
        `chain`: the cell the others run first for (see `run_with_setup`)."""
        asked = []
        for index in indices:
            cs = self.cells[index]
            if cs.queued or cs.running or not cs.runnable:
                continue
            cs.queued = True
            exercise = cs.cell.exercise if cs.cell.role == "exercise" else None
            check = self.cell_of(exercise, "check") if exercise else None
            setup = chain is not None and index != chain
            check_cell = check.cell if check and not setup else None  # judged when asked
            asked.append(RunCell(cs.cell, cs.code, timeout, check_cell, chain, setup))
        self._submit(*asked)

    def interrupt(self) -> Interruption:
        """Stop the running cell and forget the queued ones."""
        self._forget_queued()
        return self.queue.interrupt()

    def restart(self) -> None:
        self._forget_queued()
        self.busy = True
        self.queue.restart()  # interrupts once, then the restart waits for that cell to end

    def _forget_queued(self, only: tuple[int, ...] | None = None) -> None:
        for cs in self.cells:
            if only is None or cs.cell.index in only:
                cs.queued = False

    def chain_stopped(self, dropped: tuple[int, ...]) -> None:
        """A cell run first failed: the queue dropped the rest of the chain."""
        self._forget_queued(dropped)

    # -- the learner's edits -----------------------------------------------------------

    def restore_edits(self, placed: Placed) -> None:
        """Edits kept from an earlier visit (`core.edits.place` chose their cells)."""
        for index, edit in placed.edits.items():
            cs = self.cells[index]
            cs.code, cs.edit_base = edit.code, edit.base

    def reset_cell(self, index: int) -> None:
        """The lesson's code again: the edit is gone, from the progress too."""
        cs = self.cells[index]
        cs.code, cs.edit_base = cs.cell.source, None

    def edits(self) -> dict[int, Edit | None]:
        """Every editable cell's edit (None: the lesson's code), for the progress to keep."""
        return {c.cell.index: c.edit for c in self.cells if c.editable}

    def open_graph(self, name: str, highlight: str | None, highlight_op: str | None) -> None:
        self.queue.follow_graph(name)
        self.graph_highlight, self.graph_highlight_op = highlight, highlight_op
        self.graph = None
        self.busy = True
        self.queue.fetch_graph(name)

    def close_graph(self) -> None:
        self.queue.follow_graph(None)
        self.graph = None

    def _submit(self, *requests: Request) -> None:
        if requests:
            self.busy = True
            self.queue.submit(*requests)

    # -- the queue's events, applied on the UI thread ------------------------------------

    def cell_started(self, index: int, live: LiveOutput) -> None:
        cs = self.cells[index]
        cs.live, cs.live_plots, cs.started = live.streams, live.plots, live.started
        cs.running, cs.queued = True, False

    def cell_finished(self, index: int, result: CellResult) -> Judgement | None:
        """Keep the result; a check judges its exercise."""
        cs = self.cells[index]
        cs.running = False
        cs.result = result
        if cs.cell.role != "check":
            return None
        return self.judge(cs.cell.exercise or "", result)

    def judge(self, name: str, result: CellResult) -> Judgement | None:
        """The check ran: tell the exercise cell whether it is solved, and why not."""
        starter = self.cell_of(name, "exercise")
        if starter is None:
            return None
        solved = result.status == "ok"
        error = result.error
        if solved:
            message = ""
        elif result.status != "error" or error is None:
            message = f"the check could not run ({result.status})"
        elif error.type == "AssertionError":
            message = error.message or "the check's assertion failed"
        else:
            message = f"{error.type}: {error.message}"
        starter.verdict = {"solved": solved, "message": message}
        first = solved and name not in self.solved
        if solved:
            self.solved.add(name)
            self.solutions_shown.add(name)  # solved: the reference solution is there to compare
        return Judgement(name, solved, first)

    def graph_ready(self, name: str, graph: dict[str, Any]) -> bool:
        """Keep the graph if the panel still follows `name` (it may have closed or moved on)."""
        if self.graph_target != name:
            return False
        self.graph = graph
        return True

    def session_restarted(self) -> None:
        self.tensors, self.changed = [], set()
        if self.graph_target is not None:
            self.graph = {"root": self.graph_target, "note": "fresh session: no variables yet"}

    def queue_idle(self) -> None:
        # Work asked for while the queue's last events were on their way keeps it busy.
        self.busy = self.queue.busy

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
    def progress_key(self) -> str:
        """The lesson's key in the progress: its folder and id (`core.progress.lesson_key`)."""
        return lesson_key(self.lesson)

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
