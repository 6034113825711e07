"""`check --compare-outputs`: a notebook's saved outputs against this machine's, as nbval
does, so an author learns which cells of a tutorial no longer print what it says they do.

Compared: the text a cell printed (stdout) and its value (`text/plain` of its result).
Not compared: stderr (warnings differ between library versions), errors (the lesson's
tags say which cells raise), images and rich outputs. Memory addresses (`0x7f...`),
timings (%time, %timeit) and trailing whitespace differ on every run and are ignored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from autograd_tutor.core.lesson import Lesson
from autograd_tutor.core.results import CellResult, LessonProblem

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")
_TIMING = re.compile(
    r"^(CPU times:.*|Wall time:.*|.* per loop \(mean ± std\. dev\. of .*\))$", re.MULTILINE
)
MAX_SHOWN = 60  # characters of each side of the first differing line


def saved_outputs(path: Path) -> dict[int, str]:
    """Each code cell's saved text (stdout, then its result), by cell number (1-based,
    among all cells); cells that saved none are absent. The notebook was read and checked
    by `notebooks.read_ipynb` already."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    found: dict[int, str] = {}
    for number, cell in enumerate(cells, 1):
        if cell.get("cell_type") != "code" or not cell.get("outputs"):
            continue
        parts = []
        for output in cell["outputs"]:
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stdout":
                parts.append(_text(output.get("text", "")))
            elif kind == "execute_result":
                plain = output.get("data", {}).get("text/plain")
                if plain is not None:
                    parts.append(_text(plain) + "\n")
        if parts:
            found[number] = "".join(parts)
    return found


def saved_by_line(lesson: Lesson) -> dict[int, str]:
    """A `.ipynb` lesson's saved text outputs by the lesson line of their cell's first code
    line (how the app knows its cells); empty for every other lesson."""
    if lesson.places is None:
        return {}
    by_number = saved_outputs(lesson.path)
    return {
        first: by_number[number] for first, _, number in lesson.places.cells if number in by_number
    }


def same_output(saved: str, result: CellResult) -> bool:
    """Whether this run printed what the notebook saved, as `--compare-outputs` judges it."""
    return normalized(saved) == normalized(ours(result))


def normalized(text: str) -> str:
    text = _TIMING.sub("", _ADDRESS.sub("0x…", text))
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def ours(result: CellResult) -> str:
    return result.stdout + (result.value + "\n" if result.value is not None else "")


def output_problems(lesson: Lesson, results: list[CellResult]) -> list[LessonProblem]:
    """`PATH:cell N: output differs: ...` for each cell whose text is not what was saved."""
    if lesson.places is None:
        return []
    saved = saved_outputs(lesson.path)
    problems = []
    for result in results:
        number = lesson.places.cell_number(result.line)
        if number is None or number not in saved or result.status == "skipped":
            continue
        then, now = normalized(saved[number]), normalized(ours(result))
        if then != now:
            problems.append(
                LessonProblem(
                    lesson.path,
                    result.line,
                    f"output differs: {_first_difference(then, now)}",
                    place=f"cell {number}",
                )
            )
    return problems


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _first_difference(then: str, now: str) -> str:
    a, b = then.splitlines(), now.splitlines()
    for at in range(max(len(a), len(b))):
        old = a[at] if at < len(a) else "(nothing)"
        new = b[at] if at < len(b) else "(nothing)"
        if old != new:
            return f"line {at + 1}: saved {_short(old)}, now {_short(new)}"
    return "whitespace"


def _short(text: str) -> str:
    return repr(text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…")
