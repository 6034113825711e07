"""The lesson view: prose, code cells with their output, hints; a cursor on a code cell.

Focus stays on the scrolling body (or the editor while editing); the current cell is a
cursor kept in the lesson's state, so moving works the same whatever is on screen. While
mounted, the screen is its state's `view`: the app tells it what the run queue changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Container, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static, TextArea

from autograd_tutor.core.lesson import CodeCell, Hint, Prose
from autograd_tutor.ui import flow, keys, linebreak, render
from autograd_tutor.ui.i18n import _
from autograd_tutor.ui.screens.exercise_actions import ExerciseActions
from autograd_tutor.ui.screens.explorer import ExplorerScreen
from autograd_tutor.ui.state import LessonState
from autograd_tutor.ui.text import markdown
from autograd_tutor.ui.widgets import predict
from autograd_tutor.ui.widgets.cell import CellEditor, CellView, HintView
from autograd_tutor.ui.widgets.panels import LessonPanels
from autograd_tutor.ui.widgets.status import StatusBar

if TYPE_CHECKING:
    from autograd_tutor.ui.app import TutorApp

BUSY_PAINT_DELAY = 0.03  # seconds before a queued or running cell's header says so
TICK = 0.2  # seconds between repaints of a running cell: its timer and streamed output
# The lesson whose title gets a line about the learning-rate explorer.
EXPLORER_LESSON = "linear-regression"
EXPLORER_HINT = {
    # One line at 80 columns.
    "en": f"📈 Tip: press {keys.EXPLORER} for the learning-rate explorer (several rates at once).",
    "zh": f"📈 提示：按 {keys.EXPLORER} 打开学习率探索器（同时比较几个学习率的损失曲线）。",
}


def split_title(text: str) -> tuple[str, str]:
    """(the Markdown up to and including its first `# ` heading, the rest)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return "\n".join(lines[: i + 1]), "\n".join(lines[i + 1 :])
    return "", text


class LessonBody(VerticalScroll, inherit_bindings=False):
    """Scrolls with the page keys; the arrows are the screen's, to move between cells."""

    BINDINGS = [
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
    ]


class LessonScreen(ExerciseActions, Screen[None]):
    BINDINGS = keys.LESSON
    # -wide: the inspector and the graph go beside the lesson instead of below it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    # -short: the graph's legend gives its two rows to the graph itself.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (28, "-tall")]

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return keys.help_first(super().active_bindings)

    def __init__(self, state: LessonState) -> None:
        super().__init__()
        self.state = state
        self.views: list[CellView] = []
        self.hint_views: dict[str, list[HintView]] = {}

    @property
    def tutor(self) -> TutorApp:
        return self.app  # type: ignore[return-value]

    @property
    def dark(self) -> bool:
        return self.app.current_theme.dark

    @property
    def current(self) -> CellView | None:
        return self.views[self.state.cursor] if self.views else None

    @property
    def panels(self) -> LessonPanels:
        return self.query_one(LessonPanels)

    def compose(self) -> ComposeResult:
        yield StatusBar(self._where())
        with Container(id="lesson-main"):
            with LessonBody(id="lesson-body"):
                yield from self._blocks()
            yield LessonPanels(
                self.state, self.tutor.panel_choices, self.action_focus_cells, id="panels"
            )
        yield Footer(compact=True)

    def _blocks(self) -> ComposeResult:
        counts: dict[str, int] = {}
        hint = (
            EXPLORER_HINT.get(self.state.lesson.lang, EXPLORER_HINT["en"])
            if self.state.lesson.id == EXPLORER_LESSON
            else None
        )
        for block in self.state.lesson.blocks:
            if isinstance(block, Prose):
                text = linebreak.join_soft_breaks(block.text)  # no space inside Chinese
                if hint is not None:
                    title, text = split_title(text)
                    if title:
                        yield Markdown(markdown(title), classes="prose", open_links=False)
                    yield Static(hint, id="explorer-hint", markup=False)
                    hint = None
                if text.strip():
                    yield Markdown(markdown(text), classes="prose", open_links=False)
            elif isinstance(block, CodeCell):
                view = CellView(self.state.cells[block.index], self.state)
                self.views.append(view)
                yield view
            elif isinstance(block, Hint):
                counts[block.exercise] = counts.get(block.exercise, 0) + 1
                exercise = self.state.lesson.exercise(block.exercise)
                total = len(exercise.hints) if exercise else 1
                view = HintView(block, counts[block.exercise], total)
                self.hint_views.setdefault(block.exercise, []).append(view)
                yield view

    def on_mount(self) -> None:
        self.repaint_all()
        self.show_tensors()
        self.show_graph()  # also shows the inspector if the learner keeps it open
        self.state.cursor = min(self.state.cursor, max(len(self.views) - 1, 0))
        self.move_to(self.state.cursor)
        # Paused by its own tick while no cell runs: a class's idle apps wake for nothing.
        self._ticker = self.set_interval(TICK, self._tick)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.repaint_all())
        self.query_one(LessonBody).focus()
        self.state.view = self  # from now on the app tells this screen what changed

    def on_unmount(self) -> None:
        self.app.theme_changed_signal.unsubscribe(self)
        if self.state.view is self:  # a screen replacing this one may have taken over
            self.state.view = None

    def on_resize(self, event: events.Resize) -> None:
        # Plots are widgets or text, and text plots are as wide as the terminal.
        self.repaint_all()

    def _where(self) -> str:
        lesson = self.state.lesson
        number = self.tutor.lessons.index(lesson) + 1 if lesson in self.tutor.lessons else 0
        total = len(self.state.cells)
        where = _("cell {number}/{total}").format(number=self.state.cursor + 1, total=total)
        cell = f" · {where}" if total else ""
        return f"{number}. {lesson.title}{cell}"

    # -- painting ----------------------------------------------------------------------

    def repaint_all(self) -> None:
        for view in self.views:
            view.show(self.dark, self.tutor.show_times)
        for name, hint_views in self.hint_views.items():
            shown = self.state.hints_shown.get(name, 0)
            for view in hint_views:
                view.display = view.number <= shown

    def paint_if_busy_soon(self, index: int) -> None:
        self.set_timer(BUSY_PAINT_DELAY, lambda: self._paint_if_busy(index))

    def _paint_if_busy(self, index: int) -> None:
        if 0 <= index < len(self.views) and (
            self.views[index].cs.queued or self.views[index].cs.running
        ):
            self.repaint_cell(index)
            self._ticker.resume()  # its timer and streamed output, every TICK until it ends

    def repaint_cell(self, index: int) -> None:
        if 0 <= index < len(self.views):
            self.views[index].show(self.dark, self.tutor.show_times)

    def cell_finished(self, index: int, others: bool = True) -> None:
        """`others`: the result may change other cells too (a check judges its exercise and
        shows the solution): all are repainted; else only this one."""
        if others:
            self.repaint_all()
        else:
            self.repaint_cell(index)
        self.follow(index)

    def show_tensors(self) -> None:
        self.panels.show_tensors()

    def show_graph(self) -> None:
        self.panels.show_graph()

    def follow(self, index: int) -> None:
        """A cell under the cursor finished: bring its output into view once laid out."""
        if index == self.state.cursor and 0 <= index < len(self.views):
            view = self.views[index]
            body = self.query_one(LessonBody)
            self.call_after_refresh(body.scroll_to_widget, view, animate=False)

    def _tick(self) -> None:
        running = [view for view in self.views if view.cs.running]
        for view in running:
            view.show(self.dark, self.tutor.show_times)
        if not running:
            self._ticker.pause()  # resumed by the next cell still busy after a moment

    def move_to(self, index: int) -> None:
        if not self.views:
            return
        index = max(0, min(index, len(self.views) - 1))
        if self.current is not None:
            self.current.remove_class("-current")
        self.state.cursor = index
        view = self.views[index]
        view.add_class("-current")
        self.query_one(LessonBody).scroll_to_center(view, animate=False, origin_visible=True)
        self.query_one(StatusBar).set_where(self._where())
        self.tutor.remember_position(self.state)

    # -- moving ------------------------------------------------------------------------

    def action_prev_cell(self) -> None:
        self.move_to(self.state.cursor - 1)

    def action_next_cell(self) -> None:
        self.move_to(self.state.cursor + 1)

    # -- running -----------------------------------------------------------------------

    def _leave_editor(self) -> None:
        view = self.current
        if view is not None and view.editor is not None:
            view.stop_edit()
            self.tutor.keep_edits(self.state)  # kept with the progress: it outlives the app
            self.query_one(LessonBody).focus()
            view.show(self.dark, self.tutor.show_times)

    def action_run_cell(self) -> None:
        view = self.current
        if view is None:
            return
        if not view.cs.runnable:
            self.notify(
                _(
                    "A reference solution is for reading. Edit the exercise ({key}) and run it."
                ).format(key=keys.EDIT)
            )
            return
        self._leave_editor()
        if predict.ask_first(self, view.cs):
            return  # it runs once the learner has predicted (or chosen not to)
        index = view.cs.cell.index
        first = self.state.run_with_setup(index, self.tutor.cell_timeout)
        if first:  # the cells above it had not run in this session: they run first
            self.notify(flow.setup_notice(first))
        # Not painted "queued" at once: most cells are done within milliseconds, and an
        # extra frame now would hold their output back by a frame period (Textual draws
        # at most 60 frames a second). A cell still waiting after this short while is.
        self.paint_if_busy_soon(index)

    def action_run_upto(self) -> None:
        self._run_batch(self.state.batch(self.state.cursor))

    def action_run_all(self) -> None:
        self._run_batch(self.state.batch(len(self.state.cells) - 1, with_target=False))

    def _run_batch(self, indices: list[int]) -> None:
        self._leave_editor()
        self.state.run_cells(indices, self.tutor.cell_timeout)
        for index in indices:
            self.repaint_cell(index)

    def action_interrupt(self) -> None:
        stopped = self.state.interrupt()
        running, dropped = stopped.running is not None, bool(stopped.dropped)
        if running:
            dropping = _("Interrupting the running cell; the queued cells were dropped.")
            self.notify(dropping if dropped else _("Interrupting the running cell."))
        elif dropped:
            self.notify(_("The queued cells were dropped."))
        else:
            self.notify(_("Nothing is running."))
        self.repaint_all()

    def action_restart(self) -> None:
        self.state.restart()
        self.repaint_all()

    # -- panels ------------------------------------------------------------------------

    # v and g work wherever the focus is in the lesson, so their bindings are the screen's
    # (the root of every focus chain here; keys.LESSON also orders the footer by them), but
    # what they do is the panels': the screen hands them on.
    def action_toggle_inspector(self) -> None:
        self.panels.action_toggle_inspector()

    def action_graph(self) -> None:
        self.panels.action_graph()

    def action_focus_cells(self) -> None:
        self.query_one(LessonBody).focus()

    def action_explorer(self) -> None:
        # Its own session: the explorer never touches the lesson's namespace.
        self.app.push_screen(ExplorerScreen(self.tutor.host, self.state.lesson.explorer))

    # -- editing -----------------------------------------------------------------------

    def action_edit(self) -> None:
        view = self.current
        if view is None:
            return
        if not view.cs.editable:
            # A check or a reference solution: both belong to the exercise above them.
            self.notify(_("This cell is not for editing: edit the exercise cell above it."))
            return
        if view.editor is None:
            view.start_edit(self.dark).focus()
            view.show(self.dark, self.tutor.show_times)

    def on_cell_editor_done(self, event: CellEditor.Done) -> None:
        self._leave_editor()

    def action_leave_editor(self) -> None:
        """The palette's way out of the editor (escape is the key's)."""
        self._leave_editor()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        view = self.current
        if view is not None and view.editor is event.text_area:
            view.cs.code = event.text_area.text
            view.show_header(render.header(view.cs, self.state, self.tutor.show_times))

    def action_reset_cell(self) -> None:
        view = self.current
        if view is None:
            return
        if view.editor is not None:
            view.editor.load_text(view.cs.cell.source)
        self.state.reset_cell(view.cs.cell.index)
        self.tutor.keep_edits(self.state)
        view.show(self.dark, self.tutor.show_times)
        self.notify(_("The cell has the lesson's code again."))

    # -- lessons -----------------------------------------------------------------------

    def action_next_lesson(self) -> None:
        self.tutor.step_lesson(self.state, +1)

    def action_prev_lesson(self) -> None:
        self.tutor.step_lesson(self.state, -1)

    def action_lessons(self) -> None:
        self.tutor.show_list()
