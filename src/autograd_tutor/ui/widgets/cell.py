"""One code cell in the lesson view: header, code (or its editor), output."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Markdown, Static, TextArea

from autograd_tutor.core.lesson import Hint
from autograd_tutor.ui import keys, linebreak, render
from autograd_tutor.ui.i18n import _
from autograd_tutor.ui.notebook_view import first_code_line
from autograd_tutor.ui.state import CellState, LessonState
from autograd_tutor.ui.text import markdown
from autograd_tutor.ui.widgets.plot_view import PlotPanel

# Below this terminal size a plot widget has no room: plots are drawn as text instead.
MIN_PLOT_WIDTH = 50
MIN_PLOT_HEIGHT = 20


def _texts(body: RenderableType | None) -> list[Text] | None:
    """The Texts a part is made of (a Text, or a Group of Texts); None for anything else."""
    if isinstance(body, Text):
        return [body]
    if isinstance(body, Group) and all(isinstance(part, Text) for part in body.renderables):
        return list(body.renderables)  # type: ignore[arg-type]
    return None


def _same_text(a: Text, b: Text) -> bool:
    return (a.plain, a.spans, a.style, a.justify, a.overflow, a.no_wrap, a.end) == (
        b.plain,
        b.spans,
        b.style,
        b.justify,
        b.overflow,
        b.no_wrap,
        b.end,
    )


def _lines(texts: list[Text], width: int) -> list[int] | None:
    """Lines per Text when no line needs wrapping at `width`; None when one might."""
    counts = []
    for text in texts:
        lines = text.plain.split("\n")
        if any(cell_len(line) >= width for line in lines):
            return None
        counts.append(len(lines))
    return counts


class Part:
    """One Static of a cell and what it shows: an update only when that changes, and a
    layout only when its height may change (a layout arranges the whole lesson)."""

    def __init__(self) -> None:
        self.body: RenderableType | None = None

    def show(self, static: Static, body: RenderableType) -> None:
        old, new = _texts(self.body), _texts(body)
        if old is not None and new is not None:
            if len(old) == len(new) and all(map(_same_text, old, new)):
                return  # drawn already
            width = static.size.width
            same_height = width > 0 and (_lines(old, width) or 0) == (_lines(new, width) or 1)
            static.update(body, layout=not same_height)
        else:
            static.update(body)
        self.body = body


class CellEditor(TextArea):
    """The code editor for a cell; escape hands the edit back to the cell."""

    BINDINGS = keys.EDITOR

    class Done(Message):
        def __init__(self, editor: CellEditor) -> None:
            super().__init__()
            self.editor = editor

    def action_leave(self) -> None:
        self.post_message(self.Done(self))


class CellView(Vertical):
    """Not focusable: the lesson screen keeps a cursor and marks its cell `-current`."""

    def __init__(self, cell_state: CellState, lesson_state: LessonState) -> None:
        super().__init__(id=f"cell-{cell_state.cell.index}", classes="cell")
        self.cs = cell_state
        self.ls = lesson_state
        self.editor: CellEditor | None = None
        self._shown_code: tuple[str, bool] | None = None
        self._parts = {name: Part() for name in ("header", "output", "after")}

    def compose(self) -> ComposeResult:
        yield Static(classes="cell-header")
        yield Static(classes="cell-code")
        yield Static(classes="cell-output")
        # Plots sit between the output and the error, where the cell drew them.
        yield PlotPanel(classes="cell-plots")
        yield Static(classes="cell-after")

    def on_click(self) -> None:
        # A click puts the cursor on the cell, like moving there with the arrows.
        move_to = getattr(self.screen, "move_to", None)
        if move_to is not None:
            move_to(self.cs.cell.index)

    @property
    def hidden_solution(self) -> bool:
        cell = self.cs.cell
        return cell.role == "solution" and cell.exercise not in self.ls.solutions_shown

    def show(self, dark: bool, show_times: bool) -> None:
        """Repaint from the state; cheap enough to call on every change."""
        header = self.query_one(".cell-header", Static)
        code = self.query_one(".cell-code", Static)
        out = self.query_one(".cell-output", Static)
        if self.hidden_solution:
            text = render.header(self.cs, self.ls, show_times)[
                : len(f"[{self.cs.cell.index + 1}] ")
            ]
            text.append(
                _("reference solution of {name}: hidden (press {key})").format(
                    name=self.cs.cell.exercise, key=keys.SOLUTION
                ),
                style="dim italic",
            )
            self._parts["header"].show(header, text)
            code.display = out.display = False
            self.query_one(".cell-after", Static).display = False
            self.query_one(PlotPanel).display = False
            return
        self._parts["header"].show(header, render.header(self.cs, self.ls, show_times))
        code.display = self.editor is None
        if self._shown_code != (self.cs.code, dark):
            self._shown_code = (self.cs.code, dark)
            code.update(
                render.code(self.cs.code, first_code_line(self.ls.lesson, self.cs.cell), dark)
            )
        size = self.app.size
        widgets = size.width >= MIN_PLOT_WIDTH and size.height >= MIN_PLOT_HEIGHT
        # Text plots (the fallback) are drawn to the terminal's width less the cell's
        # border and padding, and never taller than the terminal.
        parts = render.output(
            self.cs,
            self.ls,
            dark,
            width=size.width - 8,
            widgets=widgets,
            text_height=max(5, min(15, size.height - 4)),
        )
        after = self.query_one(".cell-after", Static)
        for name, static, body in (("output", out, parts.top), ("after", after, parts.bottom)):
            static.display = body is not None
            if body is not None:
                self._parts[name].show(static, body)
        # One blank line between the code and whatever comes first under it.
        after.set_class(parts.top is None and not parts.plots, "-first")
        self.query_one(PlotPanel).set_class(parts.top is None, "-first")
        self._show_plots(parts.plots)

    def show_header(self, text: Text) -> None:
        self._parts["header"].show(self.query_one(".cell-header", Static), text)

    def _show_plots(self, plots: list[dict[str, Any]]) -> None:
        panel = self.query_one(PlotPanel)
        wanted = {str(plot.get("key") or "plot") for plot in plots}
        for key in [k for k in panel.views if k not in wanted]:
            panel.views.pop(key).remove()  # a figure of an earlier run of the cell
        for plot in plots:
            view = panel.update_plot(plot)  # the same dict again costs nothing
            if not self.cs.running and view.pending:
                view.flush()  # the cell ended: its final picture now, not after the throttle
        panel.display = bool(plots)

    def start_edit(self, dark: bool) -> CellEditor:
        editor = CellEditor.code_editor(
            self.cs.code,
            language="python",
            theme="monokai" if dark else "github_light",
            line_number_start=first_code_line(self.ls.lesson, self.cs.cell),
            soft_wrap=True,
            classes="cell-editor",
        )
        self.editor = editor
        self.mount(editor, after=self.query_one(".cell-code"))
        self.query_one(".cell-code").display = False
        return editor

    def stop_edit(self) -> None:
        if self.editor is not None:
            self.cs.code = self.editor.text
            self.editor.remove()
            self.editor = None
        self._shown_code = None


class HintView(Vertical):
    """A hint fence: hidden until the learner asks for it."""

    def __init__(self, hint: Hint, number: int, total: int) -> None:
        super().__init__(classes="hint")
        self.hint = hint
        self.number = number
        self.total = total

    def compose(self) -> ComposeResult:
        yield Static(
            "💡 " + _("Hint {number} of {total}").format(number=self.number, total=self.total),
            classes="hint-title",
        )
        yield Markdown(markdown(linebreak.join_soft_breaks(self.hint.text)))
