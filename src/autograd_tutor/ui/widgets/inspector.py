"""The tensor inspector: one row per tensor of the lesson's namespace.

Rows come from `Session.inspect()` (built in the worker by `core.runner.introspect`); this
widget only draws them, so the UI process never needs torch. Rows whose names are in
`changed` (see `introspect.changed(before, after)`) get a "●" mark and the
`tensor-inspector--changed` style: after a cell, the learner sees at once which tensors
that cell created or modified (in place included: the fingerprint covers `_version`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import DataTable

from autograd_tutor.core.safe_text import one_line
from autograd_tutor.ui import keys

Row = Mapping[str, Any]

# Column keys and headers, in display order. "●" marks rows the last cell changed.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("mark", " "),
    ("name", "name"),
    ("shape", "shape"),
    ("dtype", "dtype"),
    ("requires_grad", "requires_grad"),
    ("is_leaf", "is_leaf"),
    ("grad", "grad"),
    ("grad_fn", "grad_fn"),
)
MARK = "●"
# Summaries are already clipped to 60 characters by the worker; keep the table narrower
# still so that grad_fn stays on screen in an 80-100 column terminal.
GRAD_WIDTH = 36


def _shape(shape: Any) -> str:
    # torch prints torch.Size([2, 3]); the bracket form is shorter and what learners type.
    if isinstance(shape, (list, tuple)):
        return "[" + ", ".join(str(n) for n in shape) + "]"
    return str(shape)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class TensorInspector(DataTable[Any]):
    """A DataTable of tensors: name, shape, dtype, requires_grad, is_leaf, grad, grad_fn.

    Call `update_rows(rows, changed)` after each cell; pressing enter on a row (or
    clicking a highlighted row) posts `TensorInspector.Selected(name)`.
    """

    # Enter, j/k beside the arrows, and escape back to the cells (keys.py: one source).
    BINDINGS: ClassVar[list[BindingType]] = list(keys.LESSON_INSPECTOR)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tensor-inspector--changed",
        "tensor-inspector--none",
    }

    DEFAULT_CSS = """
    TensorInspector {
        height: auto;
        max-height: 12;
    }
    TensorInspector > .tensor-inspector--changed {
        color: $warning;
        text-style: bold;
    }
    TensorInspector > .tensor-inspector--none {
        color: $text-muted;
    }
    """

    class Selected(Message):
        """The learner picked a tensor (enter on its row): e.g. show its graph."""

        def __init__(self, inspector: TensorInspector, name: str) -> None:
            super().__init__()
            self.inspector = inspector
            self.name = name

        @property
        def control(self) -> TensorInspector:
            return self.inspector

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._rows: list[dict[str, Any]] = []
        self._changed: set[str] = set()
        self._columns_ready = False  # rows given before mount wait for the columns

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)
        self._columns_ready = True
        # Styles are resolved when rows are built; rebuild them when the theme changes.
        self.app.theme_changed_signal.subscribe(
            self, lambda _theme: self._fill(self.highlighted_name)
        )
        self._fill(None)

    # -- API ---------------------------------------------------------------------------

    def update_rows(self, rows: Iterable[Row], changed: Iterable[str] = ()) -> None:
        """Show `rows` (from `Session.inspect()`); names in `changed` are marked."""
        # The cursor follows the tensor, not the row number: a new tensor sorted in above
        # it must not move the learner's selection to a different name.
        keep = self.highlighted_name
        self._rows = [dict(row) for row in rows]
        self._changed = set(changed)
        if self._columns_ready:
            self._fill(keep)

    @property
    def names(self) -> list[str]:
        """The tensor names shown, in order."""
        return [str(row.get("name")) for row in self._rows]

    @property
    def table_width(self) -> int:
        """The table's width in cells: each column's widest cell plus its padding.

        Known as soon as rows are given (DataTable measures its columns later, on idle),
        so a container can size itself around the table at once.
        """
        cells = [self._cells(row, False, Style(), Style()) for row in self._rows]
        padding = 2 * self.cell_padding
        return sum(
            max([len(label), *(c[i].cell_len for c in cells)]) + padding
            for i, (_, label) in enumerate(COLUMNS)
        )

    @property
    def changed_names(self) -> set[str]:
        return set(self._changed)

    @property
    def highlighted_name(self) -> str | None:
        """The name under the cursor, if any."""
        if not self._rows or not 0 <= self.cursor_row < len(self._rows):
            return None
        return str(self._rows[self.cursor_row].get("name"))

    # -- drawing -----------------------------------------------------------------------

    def _fill(self, keep: str | None) -> None:
        self.clear(columns=False)
        changed_style = self.get_component_rich_style("tensor-inspector--changed")
        none_style = self.get_component_rich_style("tensor-inspector--none")
        for row in self._rows:
            name = str(row.get("name"))
            is_changed = name in self._changed
            style = changed_style if is_changed else Style()
            self.add_row(*self._cells(row, is_changed, style, none_style), key=name)
        if keep is not None and keep in self.names:
            self.move_cursor(row=self.names.index(keep), animate=False)

    @staticmethod
    def _cells(row: Row, is_changed: bool, style: Style, none_style: Style) -> list[Text]:
        def cell(value: Any) -> Text:
            if value is None:
                # None is information here (no grad yet, no grad_fn: a leaf): show it, dimmed.
                return Text("None", style=none_style + style if style else none_style)
            return Text(one_line(value), style=style)  # a name or repr from a cell

        grad = row.get("grad")
        return [
            Text(MARK if is_changed else " ", style=style),
            cell(row.get("name")),
            cell(_shape(row.get("shape", []))),
            cell(row.get("dtype")),
            cell(bool(row.get("requires_grad"))),
            cell(bool(row.get("is_leaf"))),
            cell(None if grad is None else _clip(str(grad), GRAD_WIDTH)),
            cell(row.get("grad_fn")),
        ]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # Re-post as our own message: the app handles "a tensor was picked", not table rows.
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Selected(self, str(event.row_key.value)))
