"""The learner's edited cells, kept with the progress and put back when the lesson opens.

An edit is kept with the lesson's code it was made on (`base`). The lesson file may change
between two visits (an author's fix, a new version of the package), so putting an edit back
is a choice (`place`): on the cell of the same number whose code is still its base; else on
the cell that now has that base (cells were added or removed above it); else on the cell of
the same number, said to be based on older lesson code, because the learner's work is never
dropped without a word; else, past the lesson's last cell, it is kept in the file and
counted. No Textual, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from autograd_tutor.core.lesson import CodeCell


@dataclass(frozen=True)
class Edit:
    """The learner's code of one cell, and the lesson's code of that cell when they edited it."""

    code: str
    base: str


@dataclass(frozen=True)
class Placed:
    """Where the kept edits go: cell index -> edit; `stale`: the cells whose edit was made on
    lesson code that has changed since; `unplaced`: edits no cell can take (kept, unshown)."""

    edits: dict[int, Edit]
    stale: frozenset[int]
    unplaced: int


def editable(cell: CodeCell) -> bool:
    """Only the cells the learner may edit have edits: code cells and exercise starters."""
    return cell.role in ("code", "exercise")


def place(cells: Sequence[CodeCell], kept: Mapping[int, Edit]) -> Placed:
    placed: dict[int, Edit] = {}
    stale: set[int] = set()
    unplaced = 0
    for index, edit in sorted(kept.items()):
        same = cells[index] if 0 <= index < len(cells) else None
        if same is not None and editable(same) and same.source == edit.base:
            target = same.index
        else:
            moved = next(
                (
                    c.index
                    for c in cells
                    if editable(c) and c.source == edit.base and c.index not in placed
                ),
                None,
            )
            if moved is not None:
                target = moved
            elif same is not None and editable(same) and same.index not in placed:
                target = same.index
                stale.add(target)
            else:
                unplaced += 1
                continue
        placed[target] = edit
    return Placed(placed, frozenset(stale), unplaced)
