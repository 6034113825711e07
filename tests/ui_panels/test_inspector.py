"""TensorInspector: rows, changed marks, the cursor following a name, Selected on enter."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult

from autograd_tutor.core.tensor_rows import changed
from autograd_tutor.ui.widgets.inspector import MARK, TensorInspector

pytestmark = pytest.mark.anyio


def row(name: str, **fields: Any) -> dict[str, Any]:
    base = {
        "name": name,
        "shape": [3],
        "dtype": "float32",
        "requires_grad": False,
        "is_leaf": True,
        "grad": None,
        "grad_fn": None,
        "value": "tensor([1., 2., 3.])",
        "fingerprint": f"fp-{name}",
    }
    return {**base, **fields}


ROWS = [
    row("loss", shape=[], requires_grad=True, is_leaf=False, grad_fn="SumBackward0"),
    row("x", requires_grad=True, grad="tensor([4., 5., 6.])"),
    row("y", requires_grad=True, grad="tensor([1., 2., 3.])"),
    row("z", requires_grad=True, is_leaf=False, grad_fn="MulBackward0"),
    row("big", shape=[100, 3], dtype="float64", value="shape [100, 3], mean 0.12"),
]


class InspectorApp(App[None]):
    def __init__(self, rows: list[dict[str, Any]], marked: set[str]) -> None:
        super().__init__()
        self.rows, self.marked = rows, marked
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield TensorInspector()

    def on_mount(self) -> None:
        self.query_one(TensorInspector).update_rows(self.rows, self.marked)

    def on_tensor_inspector_selected(self, message: TensorInspector.Selected) -> None:
        self.selected.append(message.name)


def cell_text(table: TensorInspector, row_index: int, column: int) -> str:
    return str(table.get_row_at(row_index)[column])


async def test_rows_marks_and_selection() -> None:
    app = InspectorApp(ROWS, {"z", "loss"})
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(TensorInspector)
        assert table.row_count == len(ROWS)
        assert table.names == [r["name"] for r in ROWS]
        marks = {table.names[i]: cell_text(table, i, 0) for i in range(table.row_count)}
        assert marks == {"loss": MARK, "x": " ", "y": " ", "z": MARK, "big": " "}
        assert cell_text(table, 4, 2) == "[100, 3]"
        assert cell_text(table, 0, 7) == "SumBackward0"
        assert cell_text(table, 3, 6) == "None"  # a non-leaf's grad is not read

        table.focus()
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert app.selected == ["y"]


async def test_cursor_follows_the_name_across_updates() -> None:
    app = InspectorApp(ROWS, set())
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(TensorInspector)
        table.focus()
        await pilot.press("down", "down")  # on "y"
        assert table.highlighted_name == "y"
        # A cell adds "a" (sorted first) and changes y in place.
        after = [row("a"), *ROWS[:2], row("y", fingerprint="new"), *ROWS[3:]]
        table.update_rows(after, changed(ROWS, after))
        await pilot.pause()
        assert table.changed_names == {"a", "y"}
        assert table.highlighted_name == "y"
        table.update_rows([], set())
        await pilot.pause()
        assert table.row_count == 0 and table.highlighted_name is None


async def test_real_rows_from_a_session(session) -> None:
    """Rows as the worker sends them, and `changed` between two cells."""
    session.run("import torch\nx = torch.ones(2, requires_grad=True)\nw = x * 2")
    before = session.inspect()
    session.run("w = x * 3\nb = torch.zeros(1)")
    after = session.inspect()
    app = InspectorApp(after, changed(before, after))
    async with app.run_test(size=(100, 12)):
        table = app.query_one(TensorInspector)
        assert table.names == ["b", "w", "x"]
        assert table.changed_names == {"b", "w"}
        assert cell_text(table, 1, 7) == "MulBackward0"


def test_introspect_import_leaves_torch_alone() -> None:
    """The UI imports `changed` from core.tensor_rows: that module must not pull torch in."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from autograd_tutor.core.tensor_rows import changed\n"
        "import autograd_tutor.ui.widgets.inspector\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_snapshot_inspector(snap_compare) -> None:
    app = InspectorApp(ROWS, {"z", "loss"})
    assert snap_compare(app, terminal_size=(100, 10))
