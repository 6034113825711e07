"""`autograd-tutor check`: lessons validated and run like a test suite.

For each lesson file: it parses; every cell's outcome is what the lesson says; each
exercise starts unsolved and its reference solution passes its check; translations share
their code cells.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd_tutor.core.lesson import Lesson
from autograd_tutor.core.lessonrun import run_lesson
from autograd_tutor.core.library import Entry, load
from autograd_tutor.core.runner.client import DEFAULT_TIMEOUT, WorkerHost


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Report:
    lessons: int = 0
    cells: int = 0
    exercises: int = 0
    problems: list[Problem] = field(default_factory=list)
    unreadable: int = 0

    @property
    def exit_code(self) -> int:
        return 2 if self.unreadable else (1 if self.problems else 0)

    def summary(self) -> str:
        counts = f"{self.lessons} lessons, {self.cells} cells, {self.exercises} exercises"
        if not self.problems:
            return f"checked {counts}: all good"
        return f"checked {counts}: {len(self.problems)} problem(s)"


def describe_outcome(record: dict[str, Any]) -> str:
    status, error = record["status"], record.get("error")
    if status == "ok":
        return "ran without error"
    if error:
        return f"raised {error['type']}: {error['message'].splitlines()[0] if error['message'] else ''}"
    return f"ended with {status}" + (f" ({record['cause']})" if record.get("cause") else "")


def cell_problems(lesson: Lesson, records: list[dict[str, Any]], solved: bool) -> list[Problem]:
    problems = []
    cells = {c.index: c for c in lesson.cells}
    for record in records:
        for text in record.get("problems", []):
            path, line, message = text.split(":", 2) if text.count(":") >= 2 else (lesson.path, 1, text)
            problem = Problem(Path(path), int(line) if str(line).isdigit() else 1, message.strip())
            if problem not in problems:
                problems.append(problem)
        cell = cells[record["index"]]
        error = record.get("error") or {}
        line = error.get("line") or record["line"]
        where = f"cell {cell.index + 1}" + (" (with the reference solutions)" if solved else "")
        if cell.role == "check":
            if solved and record["status"] != "ok":
                problems.append(
                    Problem(
                        lesson.path,
                        line,
                        f"the reference solution of exercise "
                        f"{cell.exercise!r} fails its check: {describe_outcome(record)}",
                    )
                )
            elif not solved and record["status"] == "ok":
                problems.append(
                    Problem(
                        lesson.path,
                        record["line"],
                        f"exercise {cell.exercise!r} "
                        "starts solved: its check passes on the starter code",
                    )
                )
            elif record["expected"]:
                continue
        if record["expected"]:
            continue
        if cell.raises:
            message = f"{where} is tagged raises-exception but {describe_outcome(record)}"
        else:
            message = f"{where} {describe_outcome(record)}"
        problems.append(Problem(lesson.path, line, message))
    return problems


def lesson_problems(host: WorkerHost, lesson: Lesson, timeout: float) -> tuple[int, list[Problem]]:
    problems: list[Problem] = []
    for exercise in lesson.exercises:
        if exercise.solution is None:
            problems.append(
                Problem(
                    lesson.path,
                    exercise.starter.line - 1,
                    f"exercise {exercise.name!r} has no solution cell",
                )
            )
    records = run_lesson(host, lesson, timeout=timeout)
    problems += cell_problems(lesson, records, solved=False)
    if any(e.solution for e in lesson.exercises):
        solved = run_lesson(host, lesson, timeout=timeout, solved=True)
        problems += [p for p in cell_problems(lesson, solved, solved=True) if p not in problems]
    return len(records), problems


def translation_problems(entry: Entry) -> list[Problem]:
    base = entry.versions.get("en") or next(iter(entry.versions.values()))
    problems = []
    for lesson in entry.versions.values():
        if lesson is base:
            continue
        mine, theirs = lesson.cells, base.cells
        for a, b in zip(mine, theirs):
            if a.source.strip() != b.source.strip() or a.metadata != b.metadata:
                problems.append(
                    Problem(
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
                    Problem(
                        lesson.path,
                        1,
                        f"{len(mine)} code cells, but {base.path.name} has {len(theirs)}",
                    )
                )
    return problems


def check(
    paths: list[Path],
    host: WorkerHost,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    on_lesson: Callable[[Lesson, list[Problem]], None] | None = None,
) -> Report:
    report = Report()
    entries = load(paths)
    lessons: list[Lesson] = []
    for entry in entries:
        for err in entry.broken:
            report.unreadable += 1
            report.problems.append(Problem(err.path, err.line, err.message))
        report.problems += translation_problems(entry) if len(entry.versions) > 1 else []
        lessons += entry.versions.values()
    workers = max(1, min(len(lessons), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        results = pool.map(lambda lesson: lesson_problems(host, lesson, timeout), lessons)
        for lesson, (cells, problems) in zip(lessons, results):
            report.lessons += 1
            report.cells += cells
            report.exercises += len(lesson.exercises)
            report.problems += problems
            if on_lesson:
                on_lesson(lesson, problems)
    return report
