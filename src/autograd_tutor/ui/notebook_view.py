"""What a notebook lesson adds to a cell's drawing: its cell number instead of a line of
jupytext's Markdown (no line of a `.ipynb` file means anything to its author), and the
output the notebook saved, shown under this machine's so the learner sees both."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from autograd_tutor.core.lesson import CodeCell, Lesson
from autograd_tutor.core.outputs import same_output, saved_by_line
from autograd_tutor.core.results import CellResult
from autograd_tutor.core.safe_text import clean
from autograd_tutor.ui.i18n import _

SAVED_LINES = 20  # a long saved output is cut: the fresh one above is what the learner reads

# Saved outputs per notebook, read once per version of the file (mtime): drawing a cell
# must not parse the JSON again.
_saved: dict[Path, tuple[float, dict[int, str]]] = {}


def saved_text(lesson: Lesson, cell: CodeCell) -> str | None:
    if lesson.places is None:
        return None
    try:
        stamp = lesson.path.stat().st_mtime
    except OSError:
        return None
    cached = _saved.get(lesson.path)
    if cached is None or cached[0] != stamp:
        try:
            cached = (stamp, saved_by_line(lesson))
        except (OSError, ValueError):
            cached = (stamp, {})
        _saved[lesson.path] = cached
    return cached[1].get(cell.line)


def where(lesson: Lesson, line: int) -> str:
    """`cell 4:2` in a notebook, `line 12` in a text lesson."""
    return lesson.place(line) or _("line {line}").format(line=line)


def cell_label(lesson: Lesson, cell: CodeCell) -> str:
    """The cell header's place: `cell 4` in a notebook, `line 12` in a text lesson."""
    if lesson.places is not None:
        found = lesson.place(cell.line).partition(":")[0]
        if found:
            return found
    return _("line {line}").format(line=cell.line)


def first_code_line(lesson: Lesson, cell: CodeCell) -> int:
    """The number the code's first line is shown with: 1 in a notebook's cell (tracebacks
    say `cell N, line L`), the file's line otherwise."""
    return 1 if lesson.places is not None else cell.line


def saved_output(lesson: Lesson, cell: CodeCell, result: CellResult | None) -> Text | None:
    """The notebook's saved output under the fresh one; one line when they agree."""
    saved = saved_text(lesson, cell)
    if saved is None:
        return None
    if result is not None and result.status == "ok" and same_output(saved, result):
        return Text("📓 " + _("the same as the output saved in the notebook"), style="dim green")
    if result is None:
        title = _("📓 saved in the notebook (run the cell to compare):")
    else:
        title = _("📓 saved in the notebook, different from this run:")
    lines = saved.rstrip("\n").split("\n")
    if len(lines) > SAVED_LINES:
        more = len(lines) - SAVED_LINES
        lines = [*lines[:SAVED_LINES], _("… {count} more lines").format(count=more)]
    text = Text(title + "\n", style="bold dim")
    text.append(clean("\n".join(lines)), style="dim")
    return text
