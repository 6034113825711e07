"""Tensor inspector rows, the autograd graph as data, and its text rendering."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
import torch

from autograd_tutor.core.graphtext import render_graph
from autograd_tutor.core.runner.cell.introspect import graph, summarize, tensor_rows
from autograd_tutor.core.tensor_rows import changed


def run(code: str, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    namespace = namespace if namespace is not None else {"torch": torch}
    exec(compile(code, "<cell>", "exec"), namespace)
    return namespace


XYZ = """
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = torch.tensor([4., 5., 6.], requires_grad=True)
z = x * y
loss = z.sum()
"""

LINREG = """
x = torch.linspace(0, 1, 100)
y = 2 * x + 1
a = torch.tensor(0.5, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
y_pred = a * x + b
loss = ((y_pred - y) ** 2).mean()
"""


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    # Inspecting must never warn (e.g. reading .grad of a non-leaf): the cell's warning
    # capture would show it to the learner as if their code had caused it.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


# ------------------------------------------------------------------------------ rows


def test_rows_for_the_product_example() -> None:
    ns = run(XYZ + "_hidden = torch.ones(1)\nn = 3\nparam = torch.nn.Parameter(torch.ones(2))")
    rows = tensor_rows(ns)
    assert [r["name"] for r in rows] == ["loss", "param", "x", "y", "z"]
    json.dumps(rows)  # goes over the protocol as is
    r = by_name(rows)
    assert r["x"] | {"fingerprint": None} == {
        "name": "x",
        "shape": [3],
        "dtype": "float32",
        "requires_grad": True,
        "is_leaf": True,
        "grad": None,
        "grad_fn": None,
        "value": "tensor([1., 2., 3.])",
        "fingerprint": None,
    }
    assert r["z"]["grad_fn"] == "MulBackward0" and not r["z"]["is_leaf"]
    assert r["z"]["value"] == "tensor([ 4., 10., 18.])"
    assert r["loss"]["shape"] == [] and r["loss"]["grad_fn"] == "SumBackward0"
    assert r["loss"]["value"] == "tensor(32.)"
    assert r["param"]["is_leaf"] and r["param"]["requires_grad"]

    run("loss.backward()", ns)
    r = by_name(tensor_rows(ns))
    assert r["x"]["grad"] == "tensor([4., 5., 6.])"
    assert r["y"]["grad"] == "tensor([1., 2., 3.])"
    assert r["z"]["grad"] is None  # a non-leaf: not read, no warning


def test_summaries_stay_short() -> None:
    ns = run(
        "big = torch.ones(100, 3) * 0.5\nbig.requires_grad_()\n(big * 2).sum().backward()\n"
        "d = torch.ones(3, dtype=torch.float64)\nflags = torch.zeros(500, dtype=torch.bool)\n"
        "empty = torch.ones(0, 4)"
    )
    r = by_name(tensor_rows(ns))
    assert r["big"]["value"] == "shape [100, 3], mean 0.5"
    assert r["big"]["grad"] == "shape [100, 3], mean 2"
    assert r["d"]["value"] == "tensor([1., 1., 1.])" and r["d"]["dtype"] == "float64"
    assert r["flags"]["value"] == "shape [500], 0 True"
    assert r["empty"]["value"] == "tensor([], size=(0, 4))"
    for row in r.values():
        assert len(row["value"]) <= 60
    assert summarize(torch.arange(30.0)).startswith("shape [30], mean 14.5")


def test_changed_marks_what_a_cell_did() -> None:
    ns = run(XYZ)
    before = tensor_rows(ns)
    assert changed(before, before) == set()
    assert changed([], before) == {"loss", "x", "y", "z"}

    run("loss.backward()", ns)
    after_backward = tensor_rows(ns)
    assert changed(before, after_backward) == {"x", "y"}  # their .grad appeared

    run("with torch.no_grad():\n    x -= 0.1 * x.grad", ns)
    after_step = tensor_rows(ns)
    assert changed(after_backward, after_step) == {"x"}  # in place: the version moved

    run("x.grad.zero_()", ns)
    assert changed(after_step, tensor_rows(ns)) == {"x"}  # the grad's version moved

    before = tensor_rows(ns)
    run("y = y - 0.1 * y.grad\nw = torch.zeros(2)", ns)
    assert changed(before, tensor_rows(ns)) == {"y", "w"}  # rebound, and new

    before = tensor_rows(ns)
    run("w.requires_grad_()", ns)
    assert changed(before, tensor_rows(ns)) == {"w"}


# ----------------------------------------------------------------------------- graph


def nodes_by_label(g: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for node in g["nodes"]:
        out.setdefault(node["label"], []).append(node)
    return out


def test_graph_of_the_product_example() -> None:
    ns = run(XYZ + "loss.backward()")
    g = graph(ns, "loss")
    json.dumps(g)
    assert g["root"] == "loss" and g["truncated"] is False
    ids = {n["id"]: n for n in g["nodes"]}
    root = g["nodes"][0]
    assert root["kind"] == "tensor" and root["var"] == "loss" and root["shape"] == []
    labels = nodes_by_label(g)
    sum_node, mul_node = labels["SumBackward0"][0], labels["MulBackward0"][0]
    assert sum_node["kind"] == "op" and sum_node["var"] == "loss"
    assert mul_node["var"] == "z" and mul_node["shape"] == [3]
    assert len(labels["AccumulateGrad"]) == 2
    leaves = {n["var"]: n for n in g["nodes"] if n["kind"] == "leaf"}
    assert set(leaves) == {"x", "y"}
    assert leaves["x"]["grad"] == "tensor([4., 5., 6.])" and leaves["x"]["requires_grad"]

    edges = {(ids[a]["label"], ids[b]["label"]) for a, b in g["edges"]}
    assert ("loss", "SumBackward0") in edges
    assert ("SumBackward0", "MulBackward0") in edges
    assert ("MulBackward0", "AccumulateGrad") in edges
    assert ("AccumulateGrad", "x") in edges and ("AccumulateGrad", "y") in edges


def test_graph_of_linear_regression() -> None:
    ns = run(LINREG)
    g = graph(ns, "loss")
    labels = nodes_by_label(g)
    assert [n["label"] for n in g["nodes"][:4]] == [
        "loss",
        "MeanBackward0",
        "PowBackward0",
        "SubBackward0",
    ]
    assert labels["AddBackward0"][0]["var"] == "y_pred"
    leaves = {n["var"] for n in g["nodes"] if n["kind"] == "leaf"}
    assert leaves == {"a", "b"}  # x and y need no gradient: not in the graph
    assert all(n["grad"] is None for n in g["nodes"])  # no backward yet

    run("loss.backward()", ns)
    leaves = {n["var"]: n for n in graph(ns, "loss")["nodes"] if n["kind"] == "leaf"}
    assert leaves["a"]["grad"].startswith("tensor(") and leaves["b"]["grad"] is not None


def test_graph_without_grad_fn() -> None:
    ns = run(XYZ + "c = torch.ones(2)\nd = x.detach()\nk = 3")
    g = graph(ns, "x")
    assert len(g["nodes"]) == 1 and g["nodes"][0]["kind"] == "leaf" and g["edges"] == []
    assert g["reason"] == "leaf" and "leaf" in g["note"]
    for name in ("c", "d"):
        g = graph(ns, name)
        assert len(g["nodes"]) == 1 and g["reason"] == "no-grad" and g["note"]
    assert graph(ns, "nope")["reason"] == "missing"
    assert graph(ns, "k")["reason"] == "not-tensor"


def test_graph_is_bounded() -> None:
    ns = run("w = torch.ones(2, requires_grad=True)\nh = w\nfor _ in range(300):\n    h = h * 1.01")
    g = graph(ns, "h", max_nodes=50)
    assert g["truncated"] is True and len(g["nodes"]) == 50
    known = {n["id"] for n in g["nodes"]}
    assert all(a in known and b in known for a, b in g["edges"])
    lines = render_graph(g)
    assert lines[-1][1] == "plain" and "not shown" in lines[-1][0]
    assert max(len(text) for text, _ in lines) < 120  # deep chains stop indenting


# --------------------------------------------------------------------------- render


def test_render_product_example() -> None:
    ns = run(XYZ + "loss.backward()")
    lines = render_graph(graph(ns, "loss"))
    texts = [text for text, _ in lines]
    styles = dict((text, style) for text, style in lines)
    assert texts[0] == "loss ◀ SumBackward0"
    assert texts[1] == "└─ MulBackward0 (z)"
    assert texts[2] == "   ├─ AccumulateGrad → x  leaf requires_grad grad=tensor([4., 5., 6.])"
    assert texts[3] == "   └─ AccumulateGrad → y  leaf requires_grad grad=tensor([1., 2., 3.])"
    assert styles[texts[1]] == "nonleaf"
    assert styles[texts[2]] == styles[texts[3]] == "leaf"

    lit = render_graph(graph(ns, "loss"), highlight="z")
    assert [style for _, style in lit] == ["nonleaf", "highlight", "leaf", "leaf"]


def test_render_linear_regression_distinguishes_leaves() -> None:
    lines = render_graph(graph(run(LINREG), "loss"))
    text = "\n".join(t for t, _ in lines)
    for name in ("loss", "y_pred", "a", "b"):
        assert name in text
    leaf_lines = [t for t, s in lines if s == "leaf"]
    assert len(leaf_lines) == 2 and all("leaf requires_grad" in t for t in leaf_lines)
    assert {s for t, s in lines if "Backward" in t and "AccumulateGrad" not in t} <= {
        "op",
        "nonleaf",
    }
    assert ("└─ PowBackward0", "op") in lines


def test_render_shared_nodes_once() -> None:
    ns = run("x = torch.tensor([1., 2.], requires_grad=True)\nw = x * x + x")
    lines = render_graph(graph(ns, "w"))
    full = [t for t, _ in lines if "AccumulateGrad → x" in t and "see above" not in t]
    refs = [t for t, _ in lines if "AccumulateGrad → x" in t and "see above" in t]
    assert len(full) == 1 and len(refs) == 2


def test_render_leaf_root_and_empty_graphs() -> None:
    ns = run(XYZ)
    lines = render_graph(graph(ns, "x"), highlight="x")
    assert lines[0] == ("x  leaf requires_grad grad=None", "highlight")
    assert lines[1][1] == "plain"
    assert render_graph({"root": "q", "nodes": [], "edges": [], "note": "no variable named q"}) == [
        ("no variable named q", "plain")
    ]


def test_render_works_on_plain_data() -> None:
    """The UI renders graphs it received as JSON, with no torch around."""
    g = {
        "root": "out",
        "nodes": [
            {"id": "n0", "label": "out", "kind": "tensor", "var": "out"},
            {"id": "n1", "label": "ExpBackward0", "kind": "op", "var": "out"},
            {"id": "n2", "label": "AccumulateGrad", "kind": "op", "var": None},
            {
                "id": "n3",
                "label": "unnamed leaf",
                "kind": "leaf",
                "var": None,
                "requires_grad": True,
                "grad": None,
                "shape": [2],
            },
        ],
        "edges": [["n0", "n1"], ["n1", "n2"], ["n2", "n3"]],
    }
    assert render_graph(g) == [
        ("out ◀ ExpBackward0", "nonleaf"),
        ("└─ AccumulateGrad → (unnamed)  leaf requires_grad shape [2] grad=None", "leaf"),
    ]
