"""The lesson list: every lesson with its progress, and broken files with their error."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList
from textual.widgets.option_list import Option

from autograd_tutor.core.lesson import Lesson, LessonError
from autograd_tutor.ui import keys
from autograd_tutor.ui.i18n import _
from autograd_tutor.ui.text import clean
from autograd_tutor.ui.widgets.status import StatusBar

if TYPE_CHECKING:
    from autograd_tutor.ui.app import TutorApp


def lesson_prompt(number: int, lesson: Lesson, app: TutorApp) -> Text:
    progress = app.progress
    seen = progress.seen(lesson.id)
    ran = len(progress.cells_run(lesson.id) & {c.index for c in lesson.cells})
    solved = len(progress.solved(lesson.id) & {e.name for e in lesson.exercises})
    total = len(lesson.exercises)
    text = Text("● " if seen else "○ ", style="green" if seen else "dim")
    text.append(f"{number:>2}. ", style="bold")
    text.append(clean(lesson.title), style="bold")
    marks = [_("{done}/{total} cells run").format(done=ran, total=len(lesson.cells))]
    if total:
        star = "★" if solved == total else "☆"
        words = _("{done}/{total} exercises solved").format(done=solved, total=total)
        marks.append(f"{star} {words}")
    text.append("   " + " · ".join(marks), style="dim")
    if lesson.summary:
        text.append("\n      " + clean(lesson.summary), style="italic")
    return text


def short_path(path: Path) -> str:
    """The path as the learner would type it from here: relative when under the cwd."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def broken_prompt(err: LessonError) -> Text:
    # The words in bold, the file's own message not: split at the placeholder.
    before, _where, after = _("broken lesson file: {where}").partition("{where}")
    text = Text("✗ " + before, style="bold red")
    text.append(clean(f"{short_path(err.path)}:{err.line}: {err.message}"), style="red")
    text.append(after, style="bold red")
    return text


class LessonOptions(OptionList, inherit_bindings=False):
    """The list without its own enter binding: enter is the screen's, shown in the footer."""

    BINDINGS = [
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
    ]


class LessonListScreen(Screen[None]):
    BINDINGS = keys.LESSON_LIST

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return keys.help_first(super().active_bindings)

    @property
    def tutor(self) -> TutorApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar(self._where())
        yield LessonOptions(id="lesson-list")
        yield Footer(compact=True)

    def _where(self) -> str:
        return f"autograd-tutor · {_(self.tutor.source_name)}"

    def refresh_words(self) -> None:
        """The language changed: the list, the top line and the footer in the new one."""
        if not self.is_mounted:
            return
        self.query_one(StatusBar).set_where(self._where())
        self.query_one(StatusBar).reword()
        self.fill()
        self.refresh_bindings()

    def on_mount(self) -> None:
        self.fill()

    def on_screen_resume(self) -> None:
        self.fill()  # progress marks change while a lesson is open

    def fill(self) -> None:
        listing = self.query_one(OptionList)
        keep = listing.highlighted
        listing.clear_options()
        options: list[Option] = []
        for entry in self.tutor.entries:
            lesson = entry.pick(self.tutor.lang)
            if lesson is not None:
                # Numbered among the lessons that open, as the lesson view and palette say.
                index = self.tutor.lessons.index(lesson)
                prompt = lesson_prompt(index + 1, lesson, self.tutor)
                options.append(Option(prompt, id=f"lesson-{index}"))
            for err in entry.broken:
                options.append(Option(broken_prompt(err), disabled=True))
        if not options:
            options.append(
                Option(
                    Text(
                        _("no lessons in {source}").format(source=_(self.tutor.source_name)),
                        style="dim",
                    ),
                    disabled=True,
                )
            )
        listing.add_options(options)
        current = self.tutor.current_lesson_index()
        if current is not None:
            keep = listing.get_option_index(f"lesson-{current}")
        if keep is None and self.tutor.lessons:
            keep = listing.get_option_index("lesson-0")
        if keep is not None:
            listing.highlighted = keep
        listing.focus()

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_open(self) -> None:
        self.query_one(OptionList).action_select()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id and event.option.id.startswith("lesson-"):
            self.tutor.open_lesson(int(event.option.id.removeprefix("lesson-")))
