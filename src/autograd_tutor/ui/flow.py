"""The learner's flow through a lesson, between the core and the screens (no Textual here):
what the app says when cells run first for the one asked for, and the edits kept with the
progress (`core.edits`) going in and out of a lesson's state.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograd_tutor.core.autorun import spans
from autograd_tutor.core.edits import place
from autograd_tutor.core.progress import Progress
from autograd_tutor.core.runqueue import ChainStopped
from autograd_tutor.ui import keys
from autograd_tutor.ui.i18n import _, ngettext
from autograd_tutor.ui.state import LessonState


def cell_numbers(indices: Sequence[int]) -> str:
    """0-based indices as the cell headers number them: "1–4, 6"."""
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in spans(indices))


def setup_notice(first: Sequence[int]) -> str:
    return ngettext(
        "Running cell {cells} first: it has not run in this session ({key} stops it).",
        "Running cells {cells} first: they have not run in this session ({key} stops them).",
        len(first),
    ).format(cells=cell_numbers(first), key=keys.INTERRUPT)


def chain_notice(event: ChainStopped) -> str:
    return _(
        "Cell {failed} did not run as the lesson expects, so cell {target} did not run: "
        "it needs the cells above it. Look at cell {failed}'s error, then run again."
    ).format(failed=event.index + 1, target=event.target + 1)


def restore_edits(progress: Progress, state: LessonState) -> str | None:
    """Put the learner's kept edits back into a lesson just opened; a notice when some
    were made on an older version of the lesson, or fit no cell of it any more."""
    placed = place(state.lesson.cells, progress.edits(state.progress_key, state.lesson.lang))
    state.restore_edits(placed)
    notes = []
    if placed.stale:
        notes.append(
            _(
                "Your edit of cell {cells} was made on an older version of this lesson: it is "
                "kept ({key} puts the lesson's code back)."
            ).format(cells=cell_numbers(sorted(placed.stale)), key=keys.RESET)
        )
    if placed.unplaced:
        notes.append(
            ngettext(
                "{count} kept edit fits no cell of this lesson any more: it stays in the "
                "progress file.",
                "{count} kept edits fit no cell of this lesson any more: they stay in the "
                "progress file.",
                placed.unplaced,
            ).format(count=placed.unplaced)
        )
    return "\n".join(notes) or None


def keep_edits(progress: Progress, state: LessonState) -> None:
    """Write the lesson's edited cells into the progress (the caller saves it)."""
    for index, edit in state.edits().items():
        progress.keep_edit(state.progress_key, state.lesson.lang, index, edit)
