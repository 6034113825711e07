"""Run a whole lesson, cell after cell in one session, as the app does: typed CellResults."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from autograd_tutor.core.explain import CatalogueError, explain, explain_warning
from autograd_tutor.core.lesson import CodeCell, Lesson
from autograd_tutor.core.results import CellOutcome, CellResult, LessonProblem
from autograd_tutor.core.runner.client import DEFAULT_TIMEOUT, Session, WorkerHost
from autograd_tutor.core.runner.shared.sandbox_config import TOO_BROAD


def explained(outcome: CellOutcome, code: str, lesson: Lesson) -> CellOutcome:
    """The outcome with its error and warnings explained from the error catalogue.

    The only place a cell's outcome is explained: `run`, `check` and the app all show what
    this found. A lesson folder may extend the catalogue with an `errors/` folder
    (docs/authoring.md), and the cell's code picks tailored entries, so both are needed
    here. A broken catalogue file of the author's costs the explanations, never the run:
    it is reported as a problem of the outcome.
    """
    extra = [lesson.path.parent / "errors"]
    try:
        error = outcome.error
        if error is not None:
            found = explain(
                error.type, error.message, lang=lesson.lang, code=code, extra_dirs=extra
            )
            error = replace(error, explanation=found)
        warnings = tuple(
            replace(
                warning,
                explanation=explain_warning(
                    warning.category, warning.message, lang=lesson.lang, code=code, extra_dirs=extra
                ),
            )
            for warning in outcome.warnings
        )
    except CatalogueError as err:
        problem = LessonProblem(err.path, err.line, err.message)
        return replace(outcome, problems=(*outcome.problems, problem))
    return replace(outcome, error=error, warnings=warnings)


def placed(outcome: CellOutcome, lesson: Lesson) -> CellOutcome:
    """A `.ipynb` lesson's traceback with `cell N, line L` for the lines of jupytext's
    Markdown it ran under (see `NotebookPlaces`); any other lesson's, as it is."""
    error = outcome.error
    if lesson.places is None or error is None:
        return outcome
    frame = re.compile(rf'(File "{re.escape(str(lesson.path))}", )line (\d+)')

    def where(match: re.Match[str]) -> str:
        cell, _, line = lesson.place(int(match.group(2))).partition(":")
        return f"{match.group(1)}{cell}, line {line}" if cell else match.group(0)

    return replace(outcome, error=replace(error, traceback=frame.sub(where, error.traceback)))


def is_expected(cell: CodeCell, status: str) -> bool:
    if status == "skipped":
        return True
    if cell.raises:
        return status == "error"
    if cell.role == "check":
        return status in ("ok", "error")  # an exercise starts unsolved
    return status == "ok"


def cell_result(cell: CodeCell, outcome: CellOutcome, fresh: bool = False) -> CellResult:
    """The outcome placed in its lesson: which cell, and whether it ended as tagged."""
    return CellResult.of(cell, outcome, expected=is_expected(cell, outcome.status), fresh=fresh)


def skipped_result(cell: CodeCell) -> CellResult:
    return cell_result(cell, CellOutcome(status="skipped"))


def lesson_read_paths(lesson_path: Path, home: Path) -> list[Path]:
    """What a lesson's cells may read: the lesson's folder, unless that folder is the home,
    a folder above it, / or /tmp; then only the lesson file and an ``assets/`` folder beside
    it (docs/authoring.md)."""
    path = Path(lesson_path).resolve()
    home = Path(home).resolve()
    folder = path.parent
    if folder in {home, *home.parents} or str(folder) in TOO_BROAD:
        return [path, folder / "assets"]
    return [folder]


class LessonRun:
    """A lesson's session that comes back fresh after a crash or a kill."""

    def __init__(self, host: WorkerHost, lesson: Lesson) -> None:
        self.host = host
        self.lesson = lesson
        self.session: Session | None = None
        self.fresh = False

    def ensure_session(self) -> Session:
        if self.session is None or not self.session.alive:
            self.fresh = self.session is not None
            paths = lesson_read_paths(self.lesson.path, self.host.home)
            self.session = self.host.new_session(read_paths=paths)
        return self.session

    def run_cell(
        self,
        cell: CodeCell,
        code: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> CellResult:
        """Run `code` (the cell's own source by default) as `cell`; `on_event` gets the
        protocol's stream and plot frames while it runs."""
        session = self.ensure_session()
        fresh, self.fresh = self.fresh, False
        source = cell.source if code is None else code
        outcome = session.run(
            source,
            filename=str(self.lesson.path),
            line=cell.line,
            timeout=timeout,
            on_event=on_event,
        )
        outcome = placed(explained(outcome, source, self.lesson), self.lesson)
        return cell_result(cell, outcome, fresh)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


def run_lesson(
    host: WorkerHost,
    lesson: Lesson,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    solved: bool = False,
    on_result: Callable[[CellResult], None] | None = None,
    on_session: Callable[[Session], None] | None = None,
    before_exercise: Callable[[LessonRun, CodeCell], None] | None = None,
) -> list[CellResult]:
    """Every code cell in order; with `solved`, exercises run their reference solution.
    `before_exercise` is called with the run just before each exercise cell runs: `check`
    tries the exercise's wrong answers there, in the state the exercise runs in."""
    run = LessonRun(host, lesson)
    if on_session:
        on_session(run.ensure_session())
    solutions = {e.name: e.solution for e in lesson.exercises}
    results = []
    try:
        for cell in lesson.cells:
            if cell.skipped or cell.role == "solution":
                result = skipped_result(cell)
            else:
                if before_exercise is not None and cell.role == "exercise":
                    before_exercise(run, cell)
                solution = (
                    solutions.get(cell.exercise or "")
                    if solved and cell.role == "exercise"
                    else None
                )
                result = run_cell_as(run, cell, solution, timeout)
            results.append(result)
            if on_result:
                on_result(result)
    finally:
        run.close()
    return results


def run_cell_as(
    run: LessonRun, cell: CodeCell, solution: CodeCell | None, timeout: float
) -> CellResult:
    if solution is None:
        return run.run_cell(cell, timeout=timeout)
    # The solution runs in the exercise's place, under its own lines in the file: the result
    # names the exercise cell but keeps the solution's line, and `expected` as a solution.
    result = run.run_cell(solution, timeout=timeout)
    return replace(result, index=cell.index, role="exercise", exercise=cell.exercise)
