"""Which tensor the graph key shows: read from the cell's source and its error (no worker)."""

from __future__ import annotations

import pytest

from autograd_tutor.core.results import CellError
from autograd_tutor.core.targets import ErrorTarget, cell_target, error_target, highlight_for

TENSORS = {"x", "y", "z", "loss", "w"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("z = x * y\nloss = z.sum()\n", "loss"),
        ("loss.backward()", "loss"),
        ("print(loss)\n", "loss"),
        ("z.grad_fn.next_functions", "z"),
        ("loss = z.sum()\nprint('done')\n", "loss"),  # print names no tensor: the line above
        ("for step in range(3):\n    w.data -= 0.1 * w.grad\n", "w"),
        ("with torch.no_grad():\n    y = x * 2\n", "y"),
        ("torch.autograd.grad(loss, [x])", "loss"),
        ("import torch\n", None),
        ("this is not python", None),
    ],
)
def test_cell_target(code: str, expected: str | None) -> None:
    assert cell_target(code, TENSORS) == expected


def test_cell_target_without_known_tensors_takes_the_first_name() -> None:
    assert cell_target("loss = z.sum()") == "loss"


def error(line: int | None, message: str = "boom", kind: str = "RuntimeError") -> CellError:
    return CellError(type=kind, message=message, line=line, traceback="")


def test_error_target_reads_the_failing_line() -> None:
    code = "a = x * 2\ny.backward()\n"
    assert error_target(error(11), code, 10, TENSORS) == ErrorTarget("y")
    # `(x * 2).sum().backward()`: the chain starts from no variable; the first tensor inside.
    assert error_target(error(10), "(x * 2).sum().backward()", 10, TENSORS) == ErrorTarget("x")
    assert error_target(error(10), "x += 1", 10, TENSORS) == ErrorTarget("x")


def test_error_target_names_the_blamed_operation() -> None:
    message = "modified by an inplace operation: [torch.FloatTensor [2]], which is output 0 of Exp"
    found = error_target(error(1, message), "b.sum().backward()", 1, {"a", "b"})
    assert found == ErrorTarget("b", "Exp")


@pytest.mark.parametrize(
    "bad",
    [
        None,
        error(99),  # not a line of this cell
        error(1, kind="NameError"),
        error(1, kind="KeyboardInterrupt"),
        error(None),
    ],
)
def test_error_target_none(bad: CellError | None) -> None:
    assert error_target(bad, "y.backward()", 1, TENSORS) is None


def test_highlight_for_prefers_the_blamed_node() -> None:
    graph = {
        "nodes": [
            {"id": "n0", "kind": "tensor", "label": "b", "var": "b"},
            {"id": "n1", "kind": "op", "label": "AddBackward0", "var": "b"},
            {"id": "n2", "kind": "op", "label": "ExpBackward0"},
        ]
    }
    assert highlight_for(graph, "b", "Exp") == "n2"
    assert highlight_for(graph, "b", "ExpBackward0") == "n2"
    assert highlight_for(graph, "b", "Sigmoid") == "b"  # not in this graph: the variable
    assert highlight_for(graph, "b") == "b"
    assert highlight_for(graph, None) is None
