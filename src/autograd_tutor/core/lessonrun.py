"""Run a whole lesson, cell after cell in one session, as the app does; JSON-ready records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograd_tutor.core.lesson import CodeCell, Lesson
from autograd_tutor.core.runner.client import DEFAULT_TIMEOUT, Session, WorkerHost
from autograd_tutor.core.runner.sandbox.config import TOO_BROAD

MEMORY_ADVICE = (
    "The cell ran out of memory. The session may still hold most of it: "
    "restart the session before going on."
)


def explain_outcome(result: dict[str, Any], code: str, lesson: Lesson) -> None:
    """Fill `error.explanation` and each warning's `explanation` from the error catalogue.

    A lesson folder may extend the catalogue with an `errors/` folder (docs/authoring.md).
    """
    try:
        from autograd_tutor.core.explain import CatalogueError, explain, explain_warning
    except ImportError:
        return
    extra = [lesson.path.parent / "errors"]
    try:
        error = result.get("error")
        if error:
            found = explain(error["type"], error["message"], lang=lesson.lang, code=code, extra_dirs=extra)
            error["explanation"] = {"id": found.id, "title": found.title} if found else None
        for warning in result.get("warnings", []):
            found = explain_warning(
                warning["category"], warning["message"], lang=lesson.lang, code=code, extra_dirs=extra
            )
            warning["explanation"] = {"id": found.id, "title": found.title} if found else None
    except CatalogueError as err:
        result.setdefault("problems", []).append(str(err))


def is_expected(cell: CodeCell, status: str) -> bool:
    if status == "skipped":
        return True
    if cell.raises:
        return status == "error"
    if cell.role == "check":
        return status in ("ok", "error")  # an exercise starts unsolved
    return status == "ok"


def skipped_record(cell: CodeCell) -> dict[str, Any]:
    return make_record(cell, {"status": "skipped", "seconds": 0.0})


def make_record(cell: CodeCell, result: dict[str, Any], fresh: bool = False) -> dict[str, Any]:
    status = result["status"]
    record = {
        "index": cell.index,
        "line": cell.line,
        "role": cell.role,
        "status": status,
        "expected": is_expected(cell, status),
        "stdout": result.get("stdout", ""),
        "stderr": result.get("stderr", ""),
        "value": result.get("value"),
        "output_truncated": result.get("output_truncated", False),
        "seconds": result.get("seconds", 0.0),
        "error": result.get("error"),
        "warnings": result.get("warnings", []),
        "plots": result.get("plots", []),
        "fresh_session": fresh,
    }
    if result.get("warnings_hidden"):
        record["warnings_hidden"] = result["warnings_hidden"]  # beyond the distinct ones listed
    if cell.exercise:
        record["exercise"] = cell.exercise
    if cell.role == "check":
        record["solved"] = status == "ok"
    if result.get("problems"):
        record["problems"] = result["problems"]  # a broken error-catalogue file of the author's
    if result.get("cause"):
        record["cause"] = result["cause"]
    if status == "memory" and not result.get("session_ended"):
        # A MemoryError inside the session; over the session's cap, the session is gone and
        # the cause says so (the next cell gets a fresh one).
        record["advice"] = MEMORY_ADVICE
    return record


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
    ) -> dict[str, Any]:
        session = self.ensure_session()
        fresh, self.fresh = self.fresh, False
        source = cell.source if code is None else code
        result = session.run(
            source,
            filename=str(self.lesson.path),
            line=cell.line,
            timeout=timeout,
            on_event=on_event,
        )
        explain_outcome(result, source, self.lesson)
        return make_record(cell, result, fresh)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


def run_lesson(
    host: WorkerHost,
    lesson: Lesson,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    solved: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    on_session: Callable[[Session], None] | None = None,
) -> list[dict[str, Any]]:
    """Every code cell in order; with `solved`, exercises run their reference solution."""
    run = LessonRun(host, lesson)
    if on_session:
        on_session(run.ensure_session())
    solutions = {e.name: e.solution for e in lesson.exercises}
    records = []
    try:
        for cell in lesson.cells:
            if cell.skipped or cell.role == "solution":
                record = skipped_record(cell)
            else:
                solution = (
                    solutions.get(cell.exercise or "")
                    if solved and cell.role == "exercise"
                    else None
                )
                record = run_cell_as(run, cell, solution, timeout)
            records.append(record)
            if on_record:
                on_record(record)
    finally:
        run.close()
    return records


def run_cell_as(
    run: LessonRun, cell: CodeCell, solution: CodeCell | None, timeout: float
) -> dict[str, Any]:
    if solution is None:
        return run.run_cell(cell, timeout=timeout)
    # The solution runs in the exercise's place, under its own lines in the file.
    record = run.run_cell(solution, timeout=timeout)
    record.update(index=cell.index, role="exercise", exercise=cell.exercise)
    return record
