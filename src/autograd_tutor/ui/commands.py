"""The command palette: every keyboard action by name, plus the few actions without a key."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from autograd_tutor.ui import keys
from autograd_tutor.ui.i18n import N_, _, set_language

if TYPE_CHECKING:
    from autograd_tutor.ui.app import TutorApp


def _title(binding: Binding) -> str:
    names = " / ".join(keys.key_names(binding))
    return f"{_(binding.tooltip or binding.description)} ({names})"


# Textual's own palette commands (App.get_system_commands), worded in our catalogue.
TEXTUAL_WORDS = (
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
)


def textuals(found: Iterable[SystemCommand]) -> Iterable[SystemCommand]:
    """Textual's commands in the current language (English words it adds later stay)."""
    for command in found:
        yield command._replace(title=_(command.title), help=_(command.help))


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
                _title(binding), _(binding.description), partial(target.run_action, binding.action)
            )
    current = screen.current if isinstance(screen, LessonScreen) else None
    if current is not None and current.editor is not None:
        for binding in keys.EDITOR:
            yield SystemCommand(
                _title(binding), _(binding.description), partial(screen.run_action, "leave_editor")
            )
    yield SystemCommand(
        _("Reset progress"),
        _("Forget lessons seen, cells run, exercises solved"),
        app.reset_progress,
    )
    yield SystemCommand(
        _("Light theme"),
        _("Switch to Textual's light theme"),
        partial(app.set_theme, "textual-light"),
    )
    yield SystemCommand(
        _("Dark theme"), _("Switch to Textual's dark theme"), partial(app.set_theme, "textual-dark")
    )
    yield SystemCommand(
        _("Sandbox details"), _("Which protections the cells run under"), app.show_sandbox
    )
    for lang, name in (("en", "English"), ("zh", "中文")):
        if lang != app.lang:
            yield SystemCommand(
                _("Language: {name}").format(name=name),
                _("The app's words and the lessons in {name}").format(name=name),
                partial(switch_language, app, lang),
            )
    for number, lesson in enumerate(app.lessons, 1):
        yield SystemCommand(
            _("Open lesson {number}: {title}").format(number=number, title=lesson.title),
            lesson.summary or lesson.id,
            partial(app.open_lesson, number - 1),
            discover=False,
        )


def switch_language(app: TutorApp, lang: str) -> None:
    """The app's words and the lessons in `lang` (the key's and the palette's action): the
    open lesson becomes its translation (lessons are paired by id) at the same cell;
    remembered in the progress file, as `--lang` is."""
    from autograd_tutor.ui.screens.lesson import LessonScreen
    from autograd_tutor.ui.startup import picked

    if lang == app.lang:
        return
    open_state = app.screen.state if isinstance(app.screen, LessonScreen) else None
    app.lang = lang
    set_language(lang)
    app.lessons = picked(app.entries, lang)
    app.show_list()
    app.lesson_list.refresh_words()
    lesson_id = open_state.lesson.id if open_state is not None else None
    found = next((i for i, x in enumerate(app.lessons) if x.id == lesson_id), None)
    if found is not None and open_state is not None:
        app.open_lesson(found, open_state.cursor)
    elif (last := app.progress.last) is not None:
        app.progress.set_last(last.lesson, last.cell, lang)
        app.progress.save()
