"""Which cells run first when the learner runs a cell whose setup has not run in this session.

A learner who opens a lesson in a fresh session and runs an exercise would otherwise meet
`NameError: name 'torch' is not defined`: the cells above it define what it uses. Pure data,
no Textual, no worker: the run queue knows which cells ran in its session (`RunQueue.ran`),
the caller knows which are already queued, and this module picks the cells to queue before
the target, in lesson order (docs/authoring.md, "Code cells", says the same in prose).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from autograd_tutor.core.lesson import CodeCell


def needed_first(cell: CodeCell, answered: Collection[int] = ()) -> bool:
    """Whether a cell above the one asked for runs before it when it has not run yet.

    Left out: `standalone` cells (the author says nothing below needs them), cells the
    lesson never runs (`skip-execution`: a slow demo, an endless loop), check and solution
    cells, and exercise cells the learner has not answered (`answered`: those whose code
    is the learner's own). A starter is unsolved (`y = None`) and would only hide a name
    the cells below may define better; a check would judge an exercise the learner did not
    ask to be judged; a solution would solve it for them. An answered exercise runs with the
    learner's code (not its check), since the cells below may use what it defines. Cells
    that raise on purpose do run: what ran before the error stays defined, and their error
    does not stop the chain.
    """
    if cell.skipped or cell.standalone:
        return False
    return cell.role == "code" or (cell.role == "exercise" and cell.index in answered)


def cells_first(
    cells: Sequence[CodeCell],
    target: int,
    ran: Collection[int],
    queued: Collection[int] = (),
    answered: Collection[int] = (),
) -> list[int]:
    """The indices of the cells above `target` to run before it, in order: those needed
    (`needed_first`) that did not run in this session and are not already queued."""
    return [
        cell.index
        for cell in cells[:target]
        if needed_first(cell, answered) and cell.index not in ran and cell.index not in queued
    ]


def spans(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Runs of consecutive 0-based indices as 1-based (first, last) pairs, for a notice
    that says "cells 1–4, 6" rather than listing every number."""
    found: list[tuple[int, int]] = []
    for index in indices:
        number = index + 1
        if found and found[-1][1] == number - 1:
            found[-1] = (found[-1][0], number)
        else:
            found.append((number, number))
    return found
