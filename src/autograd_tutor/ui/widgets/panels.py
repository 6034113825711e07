"""The lesson's side panels: the tensor inspector and the autograd graph, one container.

Below the lesson in a narrow terminal (a bottom strip of limited height, so an 80x24
terminal keeps most of its rows for the cells), beside it from 120 columns on (the
lesson screen's `-wide` breakpoint class, in app.tcss). Each panel shows or hides on its
own; the container hides when both are hidden.

Heights are set here, not in CSS: each panel should be as tall as what it shows (a
four-line graph needs no half screen) within a share of the screen, and when both are
open the two must share that budget, which CSS's auto and fr heights cannot express.

The panels own their actions (the inspector's v, the graph's g, enter on a tensor): they
decide what to ask the lesson's run queue for and draw what the lesson's state holds. Their
data comes from the queue's thread through the app: rows after every cell, a graph when
asked for (queued behind the running cells) and again after each cell while it is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from autograd_tutor.core import targets
from autograd_tutor.ui import keys
from autograd_tutor.ui.i18n import _
from autograd_tutor.ui.state import LessonState, PanelChoices
from autograd_tutor.ui.widgets.graph_view import GraphLegend, GraphView
from autograd_tutor.ui.widgets.inspector import MARK, TensorInspector

# Shares of the rows between the status line and the footer, in a narrow terminal.
INSPECTOR_SHARE = 0.5  # the inspector alone
GRAPH_SHARE = 0.6  # the graph, alone or with the inspector
GRAPH_BORDER = 2
LEGEND_ROWS = 2  # the legend line and its margin; hidden in a short terminal (app.tcss)
INSPECTOR_CHROME = 2  # the title line and the header row
MIN_PANEL = 3

NO_TENSORS = "No tensors yet: run a cell that makes one, then press {graph} again."
NO_TARGET = "This cell names no tensor: pick one in the inspector ({inspector}), then {run}."


def _shown(widget: Widget) -> bool:
    """False when the widget or a container above it is hidden (display: none)."""
    node: Any = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return True


class LessonPanels(Vertical):
    def __init__(
        self,
        state: LessonState,
        choices: PanelChoices,
        focus_cells: Callable[[], None],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.state = state
        self.choices = choices
        # Where the focus goes back to when a panel lets go of it: the lesson's cells.
        self.focus_cells = focus_cells

    def compose(self) -> ComposeResult:
        yield TensorInspector(id="inspector")
        yield GraphView(id="graph")

    def on_mount(self) -> None:
        self.show_panels(inspector=False, graph=False)
        self.set_rows([], set())

    @property
    def inspector(self) -> TensorInspector:
        return self.query_one(TensorInspector)

    @property
    def graph_view(self) -> GraphView:
        return self.query_one(GraphView)

    def show_panels(self, *, inspector: bool, graph: bool) -> None:
        self.inspector.display = inspector
        self.graph_view.display = graph
        self.display = inspector or graph
        self.fit()

    def fit(self) -> None:
        """Give each open panel the rows it needs, within its share of the screen."""
        if not self.is_mounted:
            return
        size = self.screen.size
        rows = max(size.height - 2, 1)  # less the status line and the footer
        wide = self.screen.has_class("-wide")
        inspector, graph = self.inspector, self.graph_view
        # A horizontal scrollbar takes a row when the table is wider than its panel.
        width = self.size.width or (size.width * (45 if wide else 100)) // 100
        scrollbar = 1 if inspector.table_width > width else 0
        need_inspector = inspector.row_count + INSPECTOR_CHROME + scrollbar
        legend = graph.query_one(GraphLegend)
        need_graph = len(graph.lines) + GRAPH_BORDER + (LEGEND_ROWS if legend.display else 0)
        # Long lines (a note, a deep tree) scroll sideways: the scrollbar takes a row.
        longest = max((len(text) for text, _ in graph.lines), default=0)
        need_graph += 1 if longest > width - 4 else 0
        if wide:
            # Beside the lesson: the whole height, the inspector on top at most half of it.
            budget = rows
            share = budget // 2 if graph.display else budget
        else:
            budget = int(rows * (GRAPH_SHARE if graph.display else INSPECTOR_SHARE))
            share = budget // 2 if graph.display else budget
        inspector_rows = max(MIN_PANEL, min(need_inspector, share))
        if graph.display and inspector.display:
            graph_rows = max(MIN_PANEL, budget - inspector_rows)
            if not wide:
                graph_rows = min(graph_rows, need_graph)
                # A short graph leaves rows to the inspector.
                inspector_rows = max(MIN_PANEL, min(need_inspector, budget - graph_rows))
        else:
            graph_rows = max(MIN_PANEL, budget if wide else min(need_graph, budget))
        inspector.styles.height = inspector_rows
        graph.styles.height = graph_rows
        self.styles.height = rows if wide else "auto"

    def on_resize(self) -> None:
        self.fit()

    def set_rows(self, rows: Iterable[Mapping[str, Any]], changed: set[str]) -> None:
        rows = list(rows)
        self.inspector.update_rows(rows, changed)
        hide = _("{key}: hide").format(key=keys.INSPECTOR)
        if rows:
            self.inspector.border_title = _(
                "tensors ({count}) · {mark} changed by the last cell · ⏎ graph · {hide}"
            ).format(count=len(rows), mark=MARK, hide=hide)
        else:
            self.inspector.border_title = _("tensors: none yet · {hide}").format(hide=hide)
        self.fit()

    def set_graph(self, graph: Mapping[str, Any], highlight: str | None) -> None:
        self.graph_view.show_graph(graph, highlight)
        self.graph_view.border_subtitle = _("{key}: hide").format(key=keys.GRAPH)
        self.fit()

    # -- drawing the lesson's state ----------------------------------------------------

    def apply(self) -> None:
        """Show the panels the learner chose; a hidden panel gives the focus back."""
        self.show_panels(
            inspector=self.choices.inspector_open, graph=self.state.graph_target is not None
        )
        focused = self.screen.focused
        if focused is not None and not _shown(focused):
            self.focus_cells()

    def show_tensors(self) -> None:
        self.set_rows(self.state.tensors, self.state.changed)

    def show_graph(self) -> None:
        state = self.state
        self.apply()
        if state.graph_target is None:
            return
        graph: dict[str, Any] = state.graph or {
            "root": state.graph_target,
            "note": _("reading the graph…") if state.busy or state.pending else "",
        }
        highlight = targets.highlight_for(graph, state.graph_highlight, state.graph_highlight_op)
        self.set_graph(graph, highlight)

    # -- the inspector's actions -------------------------------------------------------

    def action_toggle_inspector(self) -> None:
        inspector = self.inspector
        if self.choices.inspector_open and self.screen.focused is not inspector:
            inspector.focus()  # open but the cells have the keys: go to it first
            return
        self.choices.inspector_open = not self.choices.inspector_open
        self.apply()
        if self.choices.inspector_open:
            inspector.focus()  # arrows pick a tensor, enter shows its graph
        else:
            self.focus_cells()

    def on_tensor_inspector_selected(self, event: TensorInspector.Selected) -> None:
        event.stop()
        self.open_graph(event.name, self._error())

    # -- the graph's actions -----------------------------------------------------------

    def action_graph(self) -> None:
        if not self.state.tensors:
            self.notify(_(NO_TENSORS).format(graph=keys.GRAPH))
            return
        name, error = self._graph_choice()
        if name is None:
            self.notify(_(NO_TARGET).format(inspector=keys.INSPECTOR, run=keys.RUN))
            return
        if self.state.graph_target == name:
            self.close_graph()  # g again on the same tensor: hide the graph
            return
        self.open_graph(name, error)

    def open_graph(self, name: str, error: targets.ErrorTarget | None) -> None:
        # Highlighted: the variable the current cell's error came from, when this graph has it.
        # Asked for first: show_graph says "reading" while the request waits in the queue.
        self.state.open_graph(name, error.name if error else None, error.op if error else None)
        self.show_graph()

    def close_graph(self) -> None:
        self.state.close_graph()
        self.apply()

    def _names(self) -> set[str]:
        return {str(row.get("name")) for row in self.state.tensors}

    def _error(self) -> targets.ErrorTarget | None:
        cs = self.state.cells[self.state.cursor] if self.state.cells else None
        if cs is None or cs.result is None:
            return None
        return targets.error_target(cs.result.error, cs.code, cs.cell.line, self._names())

    def _graph_choice(self) -> tuple[str | None, targets.ErrorTarget | None]:
        """(tensor, error target): the inspector's row when it has the focus, else the
        variable of the current cell's error, else the tensor the cell's last line names,
        else the inspector's row."""
        error = self._error()
        inspector = self.inspector
        row = inspector.highlighted_name if inspector.display else None
        if row is not None and self.screen.focused is inspector:
            return row, error
        if error is not None:
            return error.name, error
        cells = self.state.cells
        if cells:
            cs = cells[self.state.cursor]
            named = targets.cell_target(cs.code, self._names())
            if named is not None:
                return named, error
        return row, error
