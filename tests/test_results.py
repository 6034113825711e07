"""The typed results (core/results.py) and where they are made: no worker needed here.

The worker's frames become objects once (`CellOutcome.from_protocol`); the core explains
them once (`lessonrun.explained`), with the lesson's own catalogue; they become JSON once
(`CellResult.to_json`, pinned end to end by tests/test_run_json_pinned.py).
"""

from __future__ import annotations

from pathlib import Path

from autograd_tutor.core.checker import cell_problems
from autograd_tutor.core.lesson import CodeCell
from autograd_tutor.core.lessonrun import cell_result, explained, skipped_result
from autograd_tutor.core.parser import parse_text
from autograd_tutor.core.results import (
    MEMORY_ADVICE,
    CellError,
    CellOutcome,
    CellWarning,
    LessonProblem,
)

DONE = {
    "id": 3,
    "status": "error",
    "value": None,
    "error": {
        "type": "ValueError",
        "message": "the widget is frobnicated",
        "line": 7,
        "traceback": "Traceback ...\nValueError: the widget is frobnicated\n",
        "explanation": None,
    },
    "warnings": [
        {"category": "UserWarning", "message": "again", "line": 6, "count": 4},
        {"category": "UserWarning", "message": "alone", "line": None},
    ],
    "warnings_hidden": 2,
    "output_truncated": False,
    "seconds": 0.25,
    "stdout": "out\n",
    "stderr": "",
    "plots": [{"key": "mpl-1", "title": "loss", "series": []}],
}

ENTRY = """\
id: frobnicated-widget
type: ValueError
match: "the (?P<thing>\\\\w+) is frobnicated"
title: "The {thing} was frobnicated"
what: Something frobnicated the {thing}.
why: Widgets cannot be frobnicated twice.
fix: Unfrobnicate the {thing} first.
snippet: |
  widget.unfrobnicate()
"""

LESSON = '---\ntitle: Frob\n---\n\n```python\nraise ValueError("the widget is frobnicated")\n```\n'


def lesson_with_catalogue(folder: Path, entry: str):
    (folder / "errors" / "en").mkdir(parents=True)
    (folder / "errors" / "en" / "frobnicated-widget.yaml").write_text(entry, encoding="utf-8")
    path = folder / "01-frob.en.md"
    path.write_text(LESSON, encoding="utf-8")
    return parse_text(LESSON, path)


def test_a_done_frame_becomes_typed() -> None:
    outcome = CellOutcome.from_protocol(DONE)
    assert outcome.status == "error" and outcome.seconds == 0.25 and outcome.stdout == "out\n"
    assert outcome.error == CellError(
        type="ValueError",
        message="the widget is frobnicated",
        line=7,
        traceback="Traceback ...\nValueError: the widget is frobnicated\n",
    )
    assert outcome.warnings == (
        CellWarning(category="UserWarning", message="again", line=6, count=4),
        CellWarning(category="UserWarning", message="alone", line=None),
    )
    assert outcome.warnings_hidden == 2
    assert [(p.key, p.title) for p in outcome.plots] == [("mpl-1", "loss")]
    assert not outcome.interrupted and outcome.advice is None


def test_an_ended_session_becomes_typed() -> None:
    ended = {"status": "memory", "cause": "the session used more than 2.0 GB", "error": None}
    outcome = CellOutcome.from_protocol({**ended, "session_ended": True, "seconds": 1.5})
    assert outcome.session_ended and outcome.cause.startswith("the session used")
    # The session is gone: no advice to restart it (the cause says what happened).
    assert outcome.advice is None
    inside = CellOutcome.from_protocol({"status": "memory", "error": None})
    assert inside.advice == MEMORY_ADVICE


def test_record_keys_in_their_order() -> None:
    cell = CodeCell(index=2, line=9, source="...", metadata={"check": "sum"})
    record = cell_result(cell, CellOutcome.from_protocol(DONE)).to_json()
    assert list(record) == [
        "index",
        "line",
        "role",
        "status",
        "expected",
        "stdout",
        "stderr",
        "value",
        "output_truncated",
        "seconds",
        "error",
        "warnings",
        "plots",
        "fresh_session",
        "warnings_hidden",
        "exercise",
        "solved",
    ]
    assert record["warnings"][0] == {
        "category": "UserWarning",
        "message": "again",
        "line": 6,
        "count": 4,
        "explanation": None,
    }
    assert "count" not in record["warnings"][1]
    assert (record["expected"], record["solved"]) == (True, False)


def test_a_skipped_cell() -> None:
    record = skipped_result(CodeCell(index=0, line=3, source="while True: pass")).to_json()
    assert (record["status"], record["seconds"], record["expected"]) == ("skipped", 0.0, True)


def test_explained_once_with_the_lessons_own_catalogue(tmp_path: Path) -> None:
    lesson = lesson_with_catalogue(tmp_path, ENTRY)
    outcome = explained(CellOutcome.from_protocol(DONE), lesson.cells[0].source, lesson)
    found = outcome.error.explanation
    assert found is not None and found.id == "frobnicated-widget"
    # The full text for the app, the reference for `run --json`: the same explanation.
    assert (found.title, found.fix) == (
        "The widget was frobnicated",
        "Unfrobnicate the widget first.",
    )
    assert outcome.error.to_json()["explanation"] == {
        "id": "frobnicated-widget",
        "title": "The widget was frobnicated",
    }


def test_a_broken_catalogue_is_a_problem_of_the_lesson(tmp_path: Path) -> None:
    lesson = lesson_with_catalogue(tmp_path, "id: frobnicated-widget\ntype: ValueError\n")
    outcome = explained(CellOutcome.from_protocol(DONE), "", lesson)
    assert outcome.error.explanation is None
    (problem,) = outcome.problems
    assert problem.path.name == "frobnicated-widget.yaml" and problem.line >= 1
    assert str(problem) == f"{problem.path}:{problem.line}: {problem.message}"
    # `check` reports it once, as data: nothing parses `PATH:LINE:` back out of text.
    results = [cell_result(cell, outcome) for cell in lesson.cells] * 2
    assert cell_problems(lesson, results, solved=False).count(problem) == 1


def test_lesson_problem_is_written_at_the_edge() -> None:
    problem = LessonProblem(Path("lessons/01-x.en.md"), 12, "cell 2 raised ValueError: no")
    assert str(problem) == "lessons/01-x.en.md:12: cell 2 raised ValueError: no"
