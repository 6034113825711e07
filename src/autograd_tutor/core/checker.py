"""`autograd-tutor check`: lessons validated and run like a test suite.

For each lesson file: it parses; every cell's outcome is what the lesson says; each
exercise starts unsolved, its reference solution passes its check and its check rejects
each of its wrong answers (core/wrongcheck.py); translations share their code cells.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from autograd_tutor.core.lesson import RAISES, Lesson, code_without_comments
from autograd_tutor.core.lessonrun import run_lesson
from autograd_tutor.core.library import Entry, load
from autograd_tutor.core.outputs import output_problems
from autograd_tutor.core.predict import key_problem
from autograd_tutor.core.results import CellResult, LessonProblem
from autograd_tutor.core.runner.client import DEFAULT_TIMEOUT, WorkerHost
from autograd_tutor.core.wrongcheck import WrongAnswers
from autograd_tutor.core.zhstyle import glossary_for
from autograd_tutor.core.zhstyle import lesson_problems as zh_problems


@dataclass
class Report:
    lessons: int = 0
    cells: int = 0
    exercises: int = 0
    predictions: int = 0
    wrong_rejected: int = 0  # wrong answers that their exercise's check rejected
    problems: list[LessonProblem] = field(default_factory=list)
    unreadable: int = 0

    @property
    def exit_code(self) -> int:
        return 2 if self.unreadable else (1 if self.problems else 0)

    def summary(self) -> str:
        counts = f"{self.lessons} lessons, {self.cells} cells, {self.exercises} exercises"
        if self.predictions:
            counts += f", {self.predictions} prediction" + ("s" if self.predictions > 1 else "")
        if self.wrong_rejected:
            plural = "s" if self.wrong_rejected > 1 else ""
            counts += f", {self.wrong_rejected} wrong answer{plural} rejected"
        if not self.problems:
            return f"checked {counts}: all good"
        return f"checked {counts}: {len(self.problems)} problem(s)"


def describe_outcome(result: CellResult) -> str:
    error = result.error
    if result.status == "ok":
        return "ran without error"
    if error is not None:
        first = error.message.splitlines()[0] if error.message else ""
        return f"raised {error.type}: {first}"
    return f"ended with {result.status}" + (f" ({result.cause})" if result.cause else "")


def cell_problems(lesson: Lesson, results: list[CellResult], solved: bool) -> list[LessonProblem]:
    problems: list[LessonProblem] = []
    cells = {c.index: c for c in lesson.cells}
    for result in results:
        # A broken catalogue file of the author's is reported once, however many cells hit it.
        problems += [p for p in result.problems if p not in problems]
        cell = cells[result.index]
        line = (result.error.line if result.error else None) or result.line
        # A notebook's cells are numbered as Jupyter lists them (all cells), others' as code.
        number = lesson.places.cell_number(cell.line) if lesson.places else None
        where = f"cell {number or cell.index + 1}"
        where += " (with the reference solutions)" if solved else ""
        if cell.role == "check":
            if solved and result.status != "ok":
                problems.append(
                    LessonProblem(
                        lesson.path,
                        line,
                        f"the reference solution of exercise "
                        f"{cell.exercise!r} fails its check: {describe_outcome(result)}",
                    )
                )
            elif not solved and result.status == "ok":
                problems.append(
                    LessonProblem(
                        lesson.path,
                        result.line,
                        f"exercise {cell.exercise!r} "
                        "starts solved: its check passes on the starter code",
                    )
                )
            elif result.expected:
                continue
        if result.expected:
            continue
        if cell.raises:
            said = "is tagged raises-exception" if RAISES in cell.tags else "is predicted to raise"
            message = f"{where} {said} but {describe_outcome(result)}"
        else:
            message = f"{where} {describe_outcome(result)}"
        problems.append(LessonProblem(lesson.path, line, message))
    return problems


@dataclass
class LessonCheck:
    """One lesson checked: its cells that ran, wrong answers rejected, and its problems."""

    cells: int
    wrong_rejected: int
    problems: list[LessonProblem]


def lesson_problems(
    host: WorkerHost, lesson: Lesson, timeout: float, compare_outputs: bool = False
) -> LessonCheck:
    problems: list[LessonProblem] = []
    for exercise in lesson.exercises:
        if exercise.solution is None:
            problems.append(
                LessonProblem(
                    lesson.path,
                    exercise.starter.line - 1,
                    f"exercise {exercise.name!r} has no solution cell",
                )
            )
    results = run_lesson(host, lesson, timeout=timeout)
    problems += cell_problems(lesson, results, solved=False)
    problems += prediction_problems(lesson, results)
    if compare_outputs:
        problems += output_problems(lesson, results)
    wrong = WrongAnswers(lesson, timeout)
    if any(e.solution or e.wrong for e in lesson.exercises):
        solved = run_lesson(
            host, lesson, timeout=timeout, solved=True, before_exercise=wrong.try_all
        )
        problems += [p for p in cell_problems(lesson, solved, solved=True) if p not in problems]
        problems += wrong.problems
    placed = [placed_problem(lesson, p) for p in problems]
    return LessonCheck(len(results), wrong.rejected, placed)


def prediction_problems(lesson: Lesson, results: list[CellResult]) -> list[LessonProblem]:
    """Each prediction's answer key against what its cell computed in this run. A cell that
    did not end as the lesson says is reported by `cell_problems` already, once."""
    problems = []
    by_index = {r.index: r for r in results}
    for p in lesson.predictions:
        result = by_index.get(p.cell)
        if result is None or not result.expected:
            continue
        wrong = key_problem(p.kind, p.answer, p.tol, result.status, result.value)
        if wrong:
            # A notebook has no fence line: its cell's first line is placed (`cell 4:1`).
            line = p.line + 1 if lesson.places is not None else p.line
            problems.append(LessonProblem(lesson.path, line, f"prediction {p.name!r}: {wrong}"))
    return problems


def placed_problem(lesson: Lesson, problem: LessonProblem) -> LessonProblem:
    """`nb.ipynb:cell 4:2: ...` for a notebook's lesson line (see `NotebookPlaces`)."""
    if problem.path != lesson.path or problem.place:
        return problem
    return replace(problem, place=lesson.place(problem.line))


def translation_problems(entry: Entry) -> list[LessonProblem]:
    base = entry.versions.get("en") or next(iter(entry.versions.values()))
    problems = []
    for lesson in entry.versions.values():
        if lesson is base:
            continue
        mine, theirs = lesson.cells, base.cells
        for a, b in zip(mine, theirs):
            same = code_without_comments(a.source) == code_without_comments(b.source)
            if not same or a.metadata != b.metadata:
                problems.append(
                    LessonProblem(
                        lesson.path,
                        a.line,
                        f"code cell {a.index + 1} differs from "
                        f"{base.path.name}:{b.line} (translations share their code)",
                    )
                )
                break
        else:
            if len(mine) != len(theirs):
                problems.append(
                    LessonProblem(
                        lesson.path,
                        1,
                        f"{len(mine)} code cells, but {base.path.name} has {len(theirs)}",
                    )
                )
        problems += wrong_translation_problems(lesson, base)
    return problems


def wrong_translation_problems(lesson: Lesson, base: Lesson) -> list[LessonProblem]:
    """Wrong cells are code too: the same ones, in the same order, in every translation."""
    for number, (a, b) in enumerate(zip(lesson.wrong, base.wrong), 1):
        mine, theirs = code_without_comments(a.source), code_without_comments(b.source)
        if (a.exercise, mine) != (b.exercise, theirs):
            message = (
                f"wrong cell {number} differs from {base.path.name}:{b.line} "
                "(translations share their code)"
            )
            return [LessonProblem(lesson.path, a.line, message)]
    if len(lesson.wrong) != len(base.wrong):
        message = f"{len(lesson.wrong)} wrong cells, but {base.path.name} has {len(base.wrong)}"
        return [LessonProblem(lesson.path, 1, message)]
    return []


def style_problems(lesson: Lesson) -> list[LessonProblem]:
    """A Chinese lesson's punctuation, glossary terms and glosses (core/zhstyle.py)."""
    if lesson.lang != "zh":
        return []
    try:
        glossary = glossary_for(lesson.path.parent)
    except (OSError, ValueError) as exc:
        return [
            LessonProblem(lesson.path.parent / "glossary.yaml", 1, f"unreadable glossary: {exc}")
        ]
    text = lesson.path.read_text(encoding="utf-8")
    return [LessonProblem(lesson.path, line, msg) for line, msg in zh_problems(text, glossary)]


def check(
    paths: list[Path],
    host: WorkerHost,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    on_lesson: Callable[[Lesson, list[LessonProblem]], None] | None = None,
    compare_outputs: bool = False,
) -> Report:
    """`compare_outputs`: a notebook's saved text outputs must be what its cells print here."""
    report = Report()
    entries = load(paths)
    lessons: list[Lesson] = []
    for entry in entries:
        for err in entry.broken:
            report.unreadable += 1
            report.problems.append(LessonProblem(err.path, err.line, err.message, err.place))
        report.problems += translation_problems(entry) if len(entry.versions) > 1 else []
        lessons += entry.versions.values()
    workers = max(1, min(len(lessons), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        results = pool.map(
            lambda lesson: lesson_problems(host, lesson, timeout, compare_outputs), lessons
        )
        for lesson, checked in zip(lessons, results):
            problems = checked.problems
            report.lessons += 1
            report.cells += checked.cells
            report.wrong_rejected += checked.wrong_rejected
            report.exercises += len(lesson.exercises)
            report.predictions += len(lesson.predictions)
            report.problems += problems
            style = style_problems(lesson)
            report.problems += style
            problems = problems + style
            if on_lesson:
                on_lesson(lesson, problems)
    return report
