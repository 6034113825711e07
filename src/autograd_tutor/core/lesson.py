"""The lesson model: what a lesson file holds once parsed. Pure data, no I/O."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

# Tags understood by the runner (the names Jupyter tools share).
RAISES = "raises-exception"
SKIP = "skip-execution"
# Ours: what the cell defines is not needed by the cells below it, so running a later cell
# does not run this one first (docs/authoring.md, "Code cells").
STANDALONE = "standalone"

CellRole = Literal["code", "exercise", "check", "solution"]

# What a learner predicts before a predict cell runs (docs/authoring.md, "Predictions"):
# the fence attribute that carries the answer key is the kind's name (`number=6.0`).
PredictKind = Literal["number", "tensor", "shape", "bool", "raises"]
PREDICT_KINDS: tuple[PredictKind, ...] = ("number", "tensor", "shape", "bool", "raises")


def code_without_comments(source: str) -> tuple[tuple[int, str], ...] | str:
    """What the same-code rule compares: the code's tokens without its comments and blank
    lines, so a translation may comment its code in its own language. Read with `tokenize`
    (a `#` inside a string is no comment); code it cannot read is compared as written."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        return tuple(
            (tok.type, tok.string)
            for tok in tokens
            if tok.type not in (tokenize.COMMENT, tokenize.NL)
        )
    except (tokenize.TokenError, SyntaxError):
        return source.strip()


class LessonError(Exception):
    """A lesson file that cannot be used, with the place to fix it."""

    def __init__(self, path: Path | str, line: int, message: str, place: str = "") -> None:
        # `place`: where an author finds `line` when it is no line of the file (a .ipynb's
        # "cell 4:2"); written instead of the line.
        super().__init__(f"{path}:{place or line}: {message}")
        self.path = Path(path)
        self.line = line
        self.message = message
        self.place = place


@dataclass(frozen=True)
class Prose:
    """A run of Markdown between code cells."""

    text: str
    line: int


@dataclass(frozen=True)
class Hint:
    """One hint of the exercise named `exercise`, revealed one at a time."""

    text: str
    line: int
    exercise: str


@dataclass(frozen=True)
class CodeCell:
    index: int  # 0-based among the lesson's code cells
    line: int  # 1-based line, in the file, of the cell's first code line
    source: str
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def role(self) -> CellRole:
        for role in ("exercise", "check", "solution"):
            if role in self.metadata:
                return role  # type: ignore[return-value]
        return "code"

    @property
    def exercise(self) -> str | None:
        """The exercise this cell belongs to, if any."""
        role = self.role
        return None if role == "code" else str(self.metadata[role])

    @property
    def raises(self) -> bool:
        # A prediction's `raises=true` is the tag too: writing both would be the same fact twice.
        return RAISES in self.tags or (
            "predict" in self.metadata and self.metadata.get("raises") is True
        )

    @property
    def skipped(self) -> bool:
        return SKIP in self.tags

    @property
    def standalone(self) -> bool:
        return STANDALONE in self.tags


Block = Prose | CodeCell | Hint


@dataclass(frozen=True)
class Values:
    """A tensor's numbers: its shape and its elements in row-major order."""

    shape: tuple[int, ...]
    numbers: tuple[float, ...]


# A normalised answer: number -> float, tensor -> Values, shape -> tuple of ints,
# bool and raises -> bool.
Answer = float | bool | tuple[int, ...] | Values


@dataclass(frozen=True)
class Prediction:
    """A predict cell's question, answer key and explanation. The key (`kind`, `answer`,
    `tol`) is the cell's metadata, so translations share it; the texts are the lesson's."""

    name: str
    cell: int  # the cell's index among the lesson's code cells
    line: int  # the line of the cell's fence: where a wrong answer key is reported
    kind: PredictKind
    answer: Answer
    tol: float  # numbers: |guess - truth| <= tol * max(1, |truth|)
    question: str
    explanation: str


@dataclass(frozen=True)
class ExplorerSetup:
    """The learning-rate explorer a lesson opens: its front matter's `explorer:` mapping
    (docs/authoring.md), validated by `core.explorer.read_setup`. The explorer fits `model`
    to the points (x, y) by gradient descent on the mean squared error, once per rate."""

    x: tuple[float, ...]
    y: tuple[float, ...] | str  # the points' y, or a formula in x (a Python expression)
    model: str  # a Python expression in x and the parameters, e.g. "a * x + b"
    params: tuple[tuple[str, float], ...]  # each parameter and its value at the start
    rates: tuple[float, ...]  # the rates the learner steps through, ascending
    chosen: tuple[float, ...]  # the rates run when the explorer opens
    epochs: int
    intro: str = ""  # the line above the choice: what is fitted, what to look for


@dataclass(frozen=True)
class WrongAnswer:
    """A `wrong="name"` cell: one wrong answer to an exercise, which `check` runs in place
    of the exercise cell to prove that the exercise's check rejects it. Not a code cell of
    the lesson: a learner never sees it, and nothing but `check` runs it."""

    exercise: str
    line: int  # 1-based line, in the file, of its first code line
    source: str
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Exercise:
    name: str
    starter: CodeCell
    check: CodeCell
    solution: CodeCell | None
    hints: tuple[Hint, ...]
    wrong: tuple[WrongAnswer, ...] = ()  # in file order


@dataclass(frozen=True)
class NotebookPlaces:
    """Where a `.ipynb` lesson's lines are in the notebook. Its lessons lines are those of
    jupytext's Markdown of it (no line of the JSON file means anything to its author), so
    each is shown as the notebook's cell number (1-based, among all cells, as Jupyter
    lists them) and the line in that cell: `cell 4:2`."""

    cells: tuple[tuple[int, int, int], ...]  # (lesson line of the first code line, count, N)

    def place(self, line: int) -> str:
        for first, count, number in self.cells:
            if first <= line < first + max(count, 1):
                return f"cell {number}:{line - first + 1}"
        return ""

    def cell_number(self, line: int) -> int | None:
        return next((n for first, _, n in self.cells if first == line), None)


@dataclass
class Lesson:
    path: Path
    title: str
    id: str
    lang: str
    order: int | None
    summary: str
    meta: dict[str, Any]
    blocks: list[Block]
    explorer: ExplorerSetup | None = None  # front matter `explorer:`; None: the lesson has none
    places: NotebookPlaces | None = None  # a .ipynb's cells; None: lines are the file's lines
    predictions: tuple[Prediction, ...] = ()  # in cell order
    wrong: tuple[WrongAnswer, ...] = ()  # every exercise's wrong answers, in file order

    def place(self, line: int) -> str:
        """Where the author finds a lesson line: "" when it is a line of the file itself."""
        return self.places.place(line) if self.places is not None else ""

    @property
    def cells(self) -> list[CodeCell]:
        return [b for b in self.blocks if isinstance(b, CodeCell)]

    @property
    def exercises(self) -> list[Exercise]:
        cells = self.cells
        found: list[Exercise] = []
        for starter in (c for c in cells if c.role == "exercise"):
            name = starter.exercise
            check = next(c for c in cells if c.role == "check" and c.exercise == name)
            solution = next((c for c in cells if c.role == "solution" and c.exercise == name), None)
            hints = tuple(b for b in self.blocks if isinstance(b, Hint) and b.exercise == name)
            wrong = tuple(w for w in self.wrong if w.exercise == name)
            found.append(Exercise(str(name), starter, check, solution, hints, wrong))
        return found

    def exercise(self, name: str) -> Exercise | None:
        return next((e for e in self.exercises if e.name == name), None)

    def prediction(self, cell: int) -> Prediction | None:
        """The prediction asked before code cell `cell` (its index) runs, if any."""
        return next((p for p in self.predictions if p.cell == cell), None)
