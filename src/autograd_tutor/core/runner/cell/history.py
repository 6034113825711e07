"""The code of the last cells this session ran, newest last: what a check cell reads with
`autograd_tutor.check.learner_code()` (the cell before it: the learner's exercise cell in
the app, the solution or a wrong answer under `check`). Standard library only: check.py
imports it in the cell process, and in Jupyter, where nothing records into it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RanCode:
    code: str
    filename: str
    line: int  # the lesson line of its first line


# The last two: the cell running now, and the one before it.
ran: list[RanCode] = []


def record(code: str, filename: str, line: int) -> None:
    ran.append(RanCode(code, filename, line))
    del ran[:-2]


def previous() -> RanCode | None:
    """The cell that ran before the one running now."""
    return ran[-2] if len(ran) > 1 else None
