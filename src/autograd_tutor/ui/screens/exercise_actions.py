"""The lesson view's exercise keys: the next hint, the reference solution.

A mixin of `LessonScreen`, kept apart so that the screen stays one screen's worth of code;
it uses the screen's state, hint views, notices and cursor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autograd_tutor.ui import keys
from autograd_tutor.ui.i18n import _

if TYPE_CHECKING:
    from autograd_tutor.ui.screens.lesson import LessonScreen

    _Base = LessonScreen
else:
    _Base = object


class ExerciseActions(_Base):
    def _exercise(self) -> str | None:
        name = self.state.exercise_of(self.state.cursor) if self.views else None
        if name is None:
            self.notify(_("There is no exercise here or below."))
        return name

    def action_hint(self) -> None:
        name = self._exercise()
        if name is None:
            return
        hint_views = self.hint_views.get(name, [])
        shown = self.state.hints_shown.get(name, 0)
        if shown >= len(hint_views):
            more = (
                " " + _("Press {key} to see the solution.").format(key=keys.SOLUTION)
                if name not in self.state.solutions_shown
                else ""
            )
            self.notify(
                (
                    _("No hints for this exercise.")
                    if not hint_views
                    else _("That was the last hint.")
                )
                + more
            )
            return
        self.state.hints_shown[name] = shown + 1
        self.repaint_all()
        self.query_one("LessonBody").scroll_to_center(
            hint_views[shown], animate=False, origin_visible=True
        )

    def action_solution(self) -> None:
        name = self._exercise()
        if name is None:
            return
        solution = self.state.cell_of(name, "solution")
        if solution is None:
            self.notify(_("This exercise has no reference solution."))
            return
        self.reveal_solution(name)
        self.move_to(solution.cell.index)

    def reveal_solution(self, name: str) -> None:
        self.state.solutions_shown.add(name)
        self.repaint_all()
