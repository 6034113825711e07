"""A lesson's predictions, read while it is parsed: each `predict="name"` cell, its answer
key (the cell's metadata) and the ```` ```question ```` and ```` ```explain ```` fences
after it, checked into `Prediction`s or a `LessonError` at the line to fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograd_tutor.core.lesson import RAISES, CodeCell, Lesson, LessonError, Prediction
from autograd_tutor.core.predict import AnswerKeyError, read_key


@dataclass
class PredictTexts:
    """The question and explain fences of a lesson, each with the code cell before it."""

    FENCES = ("question", "explain")

    # (fence, text, line, index of the code cell before it: -1 when none)
    found: list[tuple[str, str, int, int]] = field(default_factory=list)

    def add(self, fence: str, text: str, line: int, cell: int, path: Path) -> None:
        if not text:
            raise LessonError(path, line, f"empty ```{fence} fence: write the text in it")
        self.found.append((fence, text, line, cell))


def predictions(lesson: Lesson, texts: PredictTexts) -> tuple[Prediction, ...]:
    path = lesson.path
    cells = {c.index: c for c in lesson.cells}
    asking = {i for i, c in cells.items() if "predict" in c.metadata}
    for fence, _, line, cell in texts.found:
        if cell not in asking:
            raise LessonError(path, line, f"a ```{fence} fence must follow a predict cell")
    names: set[str] = set()
    found = []
    for index in sorted(asking):
        cell = cells[index]
        prediction = _prediction(cell, texts, path)
        if prediction.name in names:
            raise LessonError(
                path, prediction.line, f"prediction {prediction.name!r} defined twice"
            )
        names.add(prediction.name)
        found.append(prediction)
    return tuple(found)


def _prediction(cell: CodeCell, texts: PredictTexts, path: Path) -> Prediction:
    line = cell.line - 1  # the fence's line
    name = cell.metadata["predict"]
    if not (isinstance(name, str) and name):
        raise LessonError(path, line, '`predict` must name the prediction, e.g. predict="x-grad"')
    if cell.role != "code":
        raise LessonError(path, line, f"a predict cell cannot be an exercise's {cell.role} cell")
    if cell.skipped:
        raise LessonError(path, line, "a predict cell must run: it cannot be skip-execution")
    try:
        kind, answer, tol = read_key(cell.metadata)
    except AnswerKeyError as exc:
        raise LessonError(path, line, f"prediction {name!r}: {exc}") from None
    if kind == "raises" and answer is False and RAISES in cell.tags:
        raise LessonError(
            path, line, f"prediction {name!r}: raises=false on a raises-exception cell"
        )
    mine = {fence: [] for fence in PredictTexts.FENCES}  # type: dict[str, list[str]]
    for fence, text, at, index in texts.found:
        if index == cell.index:
            if mine[fence]:
                raise LessonError(path, at, f"prediction {name!r} has a second ```{fence} fence")
            mine[fence].append(text)
    for fence in PredictTexts.FENCES:
        if not mine[fence]:
            raise LessonError(
                path,
                line,
                f"prediction {name!r} needs a ```{fence} fence after its cell, before the next cell",
            )
    return Prediction(
        name=name,
        cell=cell.index,
        line=line,
        kind=kind,
        answer=answer,
        tol=tol,
        question=mine["question"][0],
        explanation=mine["explain"][0],
    )
