"""What running a cell gives, as typed data, from the worker's answer to what the learner sees.

The protocol speaks JSON frames (dicts). They become these objects once, where they arrive
(`CellOutcome.from_protocol`), and JSON again once, at the other edge: `CellResult.to_json()`
is a record of `autograd-tutor run --json`. In between, `lessonrun`, `checker`, the CLI and
the app read attributes; nothing reshapes a dict.

An error's and each warning's explanation are found once, in the core, with the lesson's
own catalogue, language and code (`lessonrun.explained`); the app draws what `run` found.

Pure data: the UI process imports this module, so no torch and no Textual here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from autograd_tutor.core.lesson import CellRole, CodeCell

MEMORY_ADVICE = (
    "The cell ran out of memory. The session may still hold most of it: "
    "restart the session before going on."
)
INTERRUPTED = "KeyboardInterrupt"


@dataclass(frozen=True)
class Explanation:
    """What the learner sees under an error: all text already in the learner's language."""

    id: str
    title: str
    what: str
    why: str
    fix: str
    snippet: str
    lesson: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def reference_json(self) -> dict[str, str]:
        """What a `run --json` record carries: the entry to look up, and its one line."""
        return {"id": self.id, "title": self.title}


@dataclass(frozen=True)
class CellError:
    """The exception a cell raised: `line` is the lesson line it came from (None outside
    the cell's lines), `traceback` shows the learner's frames only."""

    type: str
    message: str
    line: int | None
    traceback: str
    explanation: Explanation | None = None

    @classmethod
    def from_protocol(cls, frame: dict[str, Any]) -> CellError:
        return cls(
            type=str(frame.get("type", "")),
            message=str(frame.get("message", "")),
            line=frame.get("line"),
            traceback=str(frame.get("traceback", "")),
        )

    @property
    def interrupted(self) -> bool:
        return self.type == INTERRUPTED

    def to_json(self) -> dict[str, Any]:
        found = self.explanation
        return {
            "type": self.type,
            "message": self.message,
            "line": self.line,
            "traceback": self.traceback,
            "explanation": found.reference_json() if found else None,
        }


@dataclass(frozen=True)
class CellWarning:
    """One distinct warning of a cell (category, message, lesson line) and how often it came."""

    category: str
    message: str
    line: int | None
    count: int = 1
    explanation: Explanation | None = None

    @classmethod
    def from_protocol(cls, frame: dict[str, Any]) -> CellWarning:
        return cls(
            category=str(frame.get("category", "")),
            message=str(frame.get("message", "")),
            line=frame.get("line"),
            count=int(frame.get("count", 1)),
        )

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "category": self.category,
            "message": self.message,
            "line": self.line,
        }
        if self.count > 1:
            entry["count"] = self.count  # the protocol's own convention: only for repeats
        found = self.explanation
        entry["explanation"] = found.reference_json() if found else None
        return entry


@dataclass(frozen=True)
class Plot:
    """One figure a cell drew. `figure` is the protocol's dict (`{key, title, xlabel,
    ylabel, logy, series, dropped}`, docs/architecture.md), kept whole: the plot widgets
    and `plotdata.to_text` draw that dict, and the worker validates its schema."""

    figure: dict[str, Any]

    @property
    def key(self) -> str:
        return str(self.figure.get("key"))

    @property
    def title(self) -> str:
        return str(self.figure.get("title") or "")


@dataclass(frozen=True)
class LessonProblem:
    """Something an author must fix, with the place to fix it. Written `PATH:LINE: message`
    only where it is shown (`check`'s output, a record's `problems`)."""

    path: Path
    line: int
    message: str
    place: str = ""  # a .ipynb's "cell 4:2", written instead of the line (NotebookPlaces)

    def __str__(self) -> str:
        return f"{self.path}:{self.place or self.line}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class CellOutcome:
    """What one run of a cell gave, as the worker said (or the client, for a dead session).

    `status`: ok, error, memory, timeout, crashed, or skipped (not run). `cause` says why a
    session ended (`session_ended`) or why the client gave up on it; a `timeout` without a
    cause was stopped by its interrupt and kept its namespace. `problems`: broken files of
    the author's error catalogue, found while explaining.
    """

    status: str
    value: str | None = None
    stdout: str = ""
    stderr: str = ""
    error: CellError | None = None
    warnings: tuple[CellWarning, ...] = ()
    warnings_hidden: int = 0  # occurrences of warnings beyond the distinct ones listed
    plots: tuple[Plot, ...] = ()
    seconds: float = 0.0
    output_truncated: bool = False
    cause: str | None = None
    session_ended: bool = False
    problems: tuple[LessonProblem, ...] = ()

    @classmethod
    def from_protocol(cls, answer: dict[str, Any]) -> CellOutcome:
        """From `Session.run`'s answer: the `done` or `ended` frame with the cell's streams
        and plots gathered in."""
        error = answer.get("error")
        return cls(
            status=str(answer["status"]),
            value=answer.get("value"),
            stdout=answer.get("stdout") or "",
            stderr=answer.get("stderr") or "",
            error=CellError.from_protocol(error) if error else None,
            warnings=tuple(CellWarning.from_protocol(w) for w in answer.get("warnings") or ()),
            warnings_hidden=int(answer.get("warnings_hidden") or 0),
            plots=tuple(Plot(p) for p in answer.get("plots") or ()),
            seconds=answer.get("seconds", 0.0),
            output_truncated=bool(answer.get("output_truncated", False)),
            cause=answer.get("cause") or None,
            session_ended=bool(answer.get("session_ended", False)),
        )

    @property
    def interrupted(self) -> bool:
        return self.error is not None and self.error.interrupted

    @property
    def advice(self) -> str | None:
        # A MemoryError inside the session: it may still hold the memory. Over the session's
        # cap the session is gone, the cause says so, and the next cell gets a fresh one.
        if self.status == "memory" and not self.session_ended:
            return MEMORY_ADVICE
        return None


@dataclass(frozen=True, kw_only=True)
class CellResult(CellOutcome):
    """A cell's outcome in its lesson: which cell, whether it ended as the lesson says
    (`expected`), and whether it had to run in a fresh session (`fresh_session`)."""

    index: int  # 0-based among the lesson's code cells
    line: int  # the lesson line of the code that ran
    role: CellRole
    exercise: str | None = None
    expected: bool
    fresh_session: bool = False

    @classmethod
    def of(
        cls, cell: CodeCell, outcome: CellOutcome, *, expected: bool, fresh: bool = False
    ) -> CellResult:
        carried = {f.name: getattr(outcome, f.name) for f in fields(CellOutcome)}
        return cls(
            index=cell.index,
            line=cell.line,
            role=cell.role,
            exercise=cell.exercise,
            expected=expected,
            fresh_session=fresh,
            **carried,
        )

    @property
    def solved(self) -> bool | None:
        """For a check cell: whether its exercise is solved; None for other cells."""
        return self.status == "ok" if self.role == "check" else None

    def to_json(self) -> dict[str, Any]:
        """The record `run --json` prints. Its keys and their order are a contract
        (tests/test_run_json_pinned.py): optional keys only when they say something."""
        record: dict[str, Any] = {
            "index": self.index,
            "line": self.line,
            "role": self.role,
            "status": self.status,
            "expected": self.expected,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "value": self.value,
            "output_truncated": self.output_truncated,
            "seconds": self.seconds,
            "error": self.error.to_json() if self.error else None,
            "warnings": [w.to_json() for w in self.warnings],
            "plots": [p.figure for p in self.plots],
            "fresh_session": self.fresh_session,
        }
        if self.warnings_hidden:
            record["warnings_hidden"] = self.warnings_hidden
        if self.exercise:
            record["exercise"] = self.exercise
        if self.solved is not None:
            record["solved"] = self.solved
        if self.problems:
            record["problems"] = [str(p) for p in self.problems]
        if self.cause:
            record["cause"] = self.cause
        if self.advice:
            record["advice"] = self.advice
        return record
