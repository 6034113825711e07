"""The lesson list: every lesson with its progress, and broken files with their error."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList
from textual.widgets.option_list import Option

from autograd_tutor.core.lesson import Lesson, LessonError
from autograd_tutor.core.progress import lesson_key
from autograd_tutor.core.safe_text import clean
from autograd_tutor.ui import keys
from autograd_tutor.ui.i18n import _
from autograd_tutor.ui.widgets import predict
from autograd_tutor.ui.widgets.status import StatusBar

if TYPE_CHECKING:
    from autograd_tutor.ui.app import TutorApp


def progress_marks(lesson: Lesson, app: TutorApp) -> tuple[str, str]:
    """The lesson's progress in words, and the same in short for a narrow terminal."""
    progress, key = app.progress, lesson_key(lesson)
    ran = len(progress.cells_run(key) & {c.index for c in lesson.cells})
    solved = len(progress.solved(key) & {e.name for e in lesson.exercises})
    total = len(lesson.exercises)
    star = "★" if solved == total else "☆"
    marks = [_("{done}/{total} cells run").format(done=ran, total=len(lesson.cells))]
    short = [_("{ran}/{cells} run").format(ran=ran, cells=len(lesson.cells))]
    if total:
        words = _("{done}/{total} exercises solved").format(done=solved, total=total)
        marks.append(f"{star} {words}")
        short.append(f"{star} {solved}/{total}")
    predicted = predict.progress_marks(lesson, progress)
    if predicted is not None:
        marks.append(predicted[0])
        short.append(predicted[1])
    return " · ".join(marks), " · ".join(short)


def title_width(lesson: Lesson) -> int:
    return 6 + cell_len(clean(lesson.title))  # "● 12. " and the title


def lesson_prompt(
    number: int, lesson: Lesson, app: TutorApp, width: int = 0, short: bool = False
) -> Text:
    """Two lines a lesson: the title with its progress at the right, then the summary. In
    `width` columns (0: unknown, nothing cut), what is too long ends in "…", and `short`
    marks leave the titles room: sixteen lessons stay two lines each at 80x24, where
    wrapped titles and summaries took four or five lines each."""
    seen = app.progress.seen(lesson_key(lesson))
    text = Text("● " if seen else "○ ", style="green" if seen else "dim")
    text.append(f"{number:>2}. ", style="bold")
    text.append(clean(lesson.title), style="bold")
    mark = progress_marks(lesson, app)[1 if short else 0]
    if width:
        text.truncate(max(width - cell_len(mark) - 2, 8), overflow="ellipsis")
        text.append(" " * max(width - text.cell_len - cell_len(mark), 2))
    else:
        text.append("   ")
    text.append(mark, style="dim")
    if lesson.summary:
        summary = Text("      " + clean(lesson.summary), style="italic")
        if width:
            summary.truncate(width, overflow="ellipsis")
        text.append("\n")
        text.append_text(summary)
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

    def on_resize(self) -> None:
        # Each lesson's two lines are cut to the list's width, known after the new layout.
        self.call_after_refresh(self.fill)

    def fill(self) -> None:
        listing = self.query_one(OptionList)
        keep = listing.highlighted
        listing.clear_options()
        options: list[Option] = []
        width = self._prompt_width()
        # Short marks for every lesson, or for none: one column of them reads best.
        short = width > 0 and any(
            title_width(lesson) + 3 + cell_len(progress_marks(lesson, self.tutor)[0]) > width
            for lesson in self.tutor.lessons
        )
        for entry in self.tutor.entries:
            lesson = entry.pick(self.tutor.lang)
            if lesson is not None:
                # Numbered among the lessons that open, as the lesson view and palette say.
                index = self.tutor.lessons.index(lesson)
                prompt = lesson_prompt(index + 1, lesson, self.tutor, width, short)
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

    def _prompt_width(self) -> int:
        """The columns a prompt has: the list's width but for its options' padding and a
        scrollbar (sixteen lessons overflow most terminals); 0 before the first layout."""
        width = self.query_one(OptionList).scrollable_content_region.width
        return max(width - 4, 20) if width else 0

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_open(self) -> None:
        self.query_one(OptionList).action_select()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id and event.option.id.startswith("lesson-"):
            self.tutor.open_lesson(int(event.option.id.removeprefix("lesson-")))
