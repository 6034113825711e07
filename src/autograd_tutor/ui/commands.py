"""The command palette: every keyboard action by name, plus the few actions without a key."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from autograd_tutor.ui import keys

if TYPE_CHECKING:
    from autograd_tutor.ui.app import TutorApp


def _title(binding: Binding) -> str:
    names = " / ".join(keys.key_names(binding))
    return f"{binding.tooltip or binding.description} ({names})"


def commands(app: TutorApp, screen: Screen) -> Iterable[SystemCommand]:
    from autograd_tutor.ui.screens.explorer import ExplorerScreen
    from autograd_tutor.ui.screens.lesson import LessonScreen
    from autograd_tutor.ui.screens.lessons import LessonListScreen

    tables = [keys.APP]
    if isinstance(screen, LessonScreen):
        tables.append(keys.LESSON)
    elif isinstance(screen, LessonListScreen):
        tables.append(keys.LESSON_LIST)
    elif isinstance(screen, ExplorerScreen):
        tables.append(keys.EXPLORER_SCREEN)
    for bindings in tables:
        for binding in bindings:
            if binding.action in ("command_palette", "cursor_up", "cursor_down"):
                continue  # the palette is open already; moving a list by name is no help
            # Actions run on the screen they belong to (app actions on the app).
            target = app if bindings is keys.APP else screen
            yield SystemCommand(
                _title(binding), binding.description, partial(target.run_action, binding.action)
            )
    current = screen.current if isinstance(screen, LessonScreen) else None
    if current is not None and current.editor is not None:
        for binding in keys.EDITOR:
            yield SystemCommand(
                _title(binding), binding.description, partial(screen.run_action, "leave_editor")
            )
    yield SystemCommand(
        "Reset progress", "Forget lessons seen, cells run, exercises solved", app.reset_progress
    )
    yield SystemCommand(
        "Light theme", "Switch to Textual's light theme", partial(app.set_theme, "textual-light")
    )
    yield SystemCommand(
        "Dark theme", "Switch to Textual's dark theme", partial(app.set_theme, "textual-dark")
    )
    yield SystemCommand(
        "Sandbox details", "Which protections the cells run under", app.show_sandbox
    )
    for number, lesson in enumerate(app.lessons, 1):
        yield SystemCommand(
            f"Open lesson {number}: {lesson.title}",
            lesson.summary or lesson.id,
            partial(app.open_lesson, number - 1),
            discover=False,
        )
