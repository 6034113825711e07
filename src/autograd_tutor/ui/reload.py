"""Reload lesson files when their authors save them (core.watch reports the changes).

A file that no longer parses is reported with its `PATH:LINE` and the last version that
parsed stays on screen: an author's half-written edit never costs the learner the lesson.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from autograd_tutor.core.lesson import Lesson, LessonError
from autograd_tutor.core.parser import parse_file
from autograd_tutor.core.progress import lesson_key
from autograd_tutor.ui.i18n import _
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.lessons import LessonListScreen
from autograd_tutor.ui.startup import picked
from autograd_tutor.ui.state import LessonState

if TYPE_CHECKING:
    from autograd_tutor.ui.app import TutorApp


def watched_files(app: TutorApp) -> list[Path]:
    paths = [lesson.path for entry in app.entries for lesson in entry.versions.values()]
    return paths + [err.path for entry in app.entries for err in entry.broken]


def reload_changed(app: TutorApp, changed: set[Path]) -> None:
    """On the UI thread: parse each changed file and put it in place of the old one."""
    for path in sorted(changed):
        if not path.exists():
            continue  # an editor's rename-replace: the new file's event follows
        try:
            lesson = parse_file(path)
        except LessonError as err:
            app.notify(
                f"{err}\n" + _("The last version that parsed stays open."),
                title=_("Lesson not reloaded"),
                severity="warning",
                timeout=10,
                markup=False,
            )
            continue
        if _replace(app, lesson):
            app.notify(_("{name} reloaded").format(name=path.name), timeout=3, markup=False)
    if isinstance(app.screen, LessonListScreen):
        app.screen.fill()


def _replace(app: TutorApp, lesson: Lesson) -> bool:
    for entry in app.entries:
        paths = {v.path for v in entry.versions.values()} | {e.path for e in entry.broken}
        if lesson.path in paths:
            entry.versions = {k: v for k, v in entry.versions.items() if v.path != lesson.path}
            entry.versions[lesson.lang] = lesson
            entry.broken = [e for e in entry.broken if e.path != lesson.path]
    app.lessons = picked(app.entries, app.lang)
    old = app.states.get(str(lesson.path))
    if old is None:
        return True
    if old.busy:
        app.notify(
            _(
                "{name} changed: it reloads when you save it again after the running cells finish."
            ).format(name=lesson.path.name),
            timeout=6,
            markup=False,
        )
        return False
    app.states[old.key] = new = _carry_over(old, lesson, app.progress.solved(lesson_key(lesson)))
    if old.view is not None and old.view is app.screen:
        app.switch_screen(LessonScreen(new))
    return True


def _carry_over(old: LessonState, lesson: Lesson, solved: set[str]) -> LessonState:
    """The new lesson, keeping the session (its run queue) and what the learner did to
    unchanged cells."""
    old.run.lesson = lesson
    new = LessonState.create(lesson, old.queue)
    for before, after in zip(old.cells, new.cells):
        if before.cell.source == after.cell.source and before.cell.role == after.cell.role:
            after.code, after.result, after.verdict = before.code, before.result, before.verdict
            after.edit_base = before.edit_base
        elif before.edited and before.cell.role == after.cell.role and after.editable:
            # The author changed a cell the learner had edited: the learner's code stays,
            # said to be from older lesson code (as when a changed lesson opens).
            after.code, after.edit_base = before.code, before.edit_base or before.cell.source
    new.cursor = min(old.cursor, max(len(new.cells) - 1, 0))
    new.hints_shown, new.solutions_shown = dict(old.hints_shown), set(old.solutions_shown)
    new.tensors, new.changed = old.tensors, old.changed
    new.restore_solved(solved | old.solved)
    return new
