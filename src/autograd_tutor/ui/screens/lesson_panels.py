"""The lesson screen's inspector, graph and explorer keys (a mixin of LessonScreen).

The data comes from the lesson's runner thread (`execution`): rows after every cell, a
graph when asked for (through the lesson's queue, never while a cell runs). The screen
only decides what to ask for and draws what the state holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widget import Widget

from autograd_tutor.core import targets
from autograd_tutor.ui.screens.explorer import ExplorerScreen
from autograd_tutor.ui.widgets.inspector import TensorInspector
from autograd_tutor.ui.widgets.panels import LessonPanels

if TYPE_CHECKING:
    from textual.screen import Screen

    from autograd_tutor.ui.app import TutorApp
    from autograd_tutor.ui.state import LessonState

    _Base = Screen[None]
else:
    _Base = object

NO_TENSORS = "No tensors yet: run a cell that makes one, then press g again."


def _shown(widget: Widget) -> bool:
    """False when the widget or a container above it is hidden (display: none)."""
    node: Any = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return True


class PanelActions(_Base):
    state: LessonState

    if TYPE_CHECKING:

        @property
        def tutor(self) -> TutorApp: ...  # LessonScreen's

    @property
    def panels(self) -> LessonPanels:
        return self.query_one(LessonPanels)

    def _cells_widget(self) -> Widget:
        from autograd_tutor.ui.screens.lesson import LessonBody

        return self.query_one(LessonBody)

    # -- drawing -----------------------------------------------------------------------

    def apply_panels(self) -> None:
        self.panels.show_panels(
            inspector=self.tutor.inspector_open, graph=self.state.graph_target is not None
        )
        focused = self.focused
        if focused is not None and not _shown(focused):
            self._cells_widget().focus()  # the panel it was in has just been hidden

    def show_tensors(self) -> None:
        self.panels.set_rows(self.state.tensors, self.state.changed)

    def show_graph(self) -> None:
        state = self.state
        self.apply_panels()
        if state.graph_target is None:
            return
        graph: dict[str, Any] = state.graph or {
            "root": state.graph_target,
            "note": "reading the graph…" if state.busy or state.pending else "",
        }
        highlight = targets.highlight_for(graph, state.graph_highlight, state.graph_highlight_op)
        self.panels.set_graph(graph, highlight)

    # -- keys --------------------------------------------------------------------------

    def action_toggle_inspector(self) -> None:
        inspector = self.panels.inspector
        if self.tutor.inspector_open and self.focused is not inspector:
            inspector.focus()  # open but the cells have the keys: go to it first
            return
        self.tutor.inspector_open = not self.tutor.inspector_open
        self.apply_panels()
        if self.tutor.inspector_open:
            self.panels.inspector.focus()  # arrows pick a tensor, enter shows its graph
        else:
            self._cells_widget().focus()

    def action_focus_cells(self) -> None:
        self._cells_widget().focus()

    def action_graph(self) -> None:
        if not self.state.tensors:
            self.notify(NO_TENSORS)
            return
        name, error = self._graph_choice()
        if name is None:
            self.notify("This cell names no tensor: pick one in the inspector (v), then enter.")
            return
        if self.state.graph_target == name:
            self.close_graph()  # g again on the same tensor: hide the graph
            return
        self.open_graph(name, error)

    def on_tensor_inspector_selected(self, event: TensorInspector.Selected) -> None:
        event.stop()
        self.open_graph(event.name, self._error())

    def action_explorer(self) -> None:
        # Its own session: the explorer never touches the lesson's namespace.
        self.app.push_screen(ExplorerScreen(self.tutor.host))

    # -- the graph ---------------------------------------------------------------------

    def open_graph(self, name: str, error: targets.ErrorTarget | None) -> None:
        state = self.state
        state.graph_target = name
        # Highlighted: the variable the current cell's error came from, when this graph has it.
        state.graph_highlight = error.name if error else None
        state.graph_highlight_op = error.op if error else None
        state.graph = None
        self.tutor.request_graph(state, name)  # first: show_graph says "reading" while queued
        self.show_graph()

    def close_graph(self) -> None:
        self.state.graph_target = None
        self.state.graph = None
        self.apply_panels()

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
        inspector = self.panels.inspector
        row = inspector.highlighted_name if inspector.display else None
        if row is not None and self.focused is inspector:
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
