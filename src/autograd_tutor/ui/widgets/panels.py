"""The lesson's side panels: the tensor inspector and the autograd graph, one container.

Below the lesson in a narrow terminal (a bottom strip of limited height, so an 80x24
terminal keeps most of its rows for the cells), beside it from 120 columns on (the
lesson screen's `-wide` breakpoint class, in app.tcss). Each panel shows or hides on its
own; the container hides when both are hidden.

Heights are set here, not in CSS: each panel should be as tall as what it shows (a
four-line graph needs no half screen) within a share of the screen, and when both are
open the two must share that budget, which CSS's auto and fr heights cannot express.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical

from autograd_tutor.ui import keys
from autograd_tutor.ui.widgets.graph_view import GraphLegend, GraphView
from autograd_tutor.ui.widgets.inspector import MARK, TensorInspector

# Shares of the rows between the status line and the footer, in a narrow terminal.
INSPECTOR_SHARE = 0.5  # the inspector alone
GRAPH_SHARE = 0.6  # the graph, alone or with the inspector
GRAPH_BORDER = 2
LEGEND_ROWS = 2  # the legend line and its margin; hidden in a short terminal (app.tcss)
INSPECTOR_CHROME = 2  # the title line and the header row
MIN_PANEL = 3


class LessonPanels(Vertical):
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
        hide = f"{keys.INSPECTOR}: hide"
        if rows:
            self.inspector.border_title = (
                f"tensors ({len(rows)}) · {MARK} changed by the last cell · ⏎ graph · {hide}"
            )
        else:
            self.inspector.border_title = f"tensors: none yet · {hide}"
        self.fit()

    def set_graph(self, graph: Mapping[str, Any], highlight: str | None) -> None:
        self.graph_view.show_graph(graph, highlight)
        self.graph_view.border_subtitle = f"{keys.GRAPH}: hide"
        self.fit()
