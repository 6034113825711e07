"""GraphView: a real graph from a worker session, highlight, notes and empty graphs."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult

from autograd_tutor.core.runner.client import WorkerHost
from autograd_tutor.ui.widgets.graph_view import GraphView

pytestmark = pytest.mark.anyio

CODE = """\
import torch
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = torch.tensor([4., 5., 6.], requires_grad=True)
z = x * y
loss = z.sum()
loss.backward()
"""


def real_graph(host: WorkerHost, name: str = "loss") -> dict[str, Any]:
    session = host.new_session()
    try:
        result = session.run(CODE)
        assert result.status == "ok", result.error
        return session.graph(name)
    finally:
        session.close()


class GraphApp(App[None]):
    def __init__(self, graph: dict[str, Any] | None, highlight: str | None = None) -> None:
        super().__init__()
        self.graph, self.highlight = graph, highlight

    def compose(self) -> ComposeResult:
        yield GraphView()

    def on_mount(self) -> None:
        if self.graph is not None:
            self.query_one(GraphView).show_graph(self.graph, highlight=self.highlight)


async def test_real_graph_with_highlight(worker_host: WorkerHost) -> None:
    graph = real_graph(worker_host)
    app = GraphApp(graph, highlight="x")
    async with app.run_test(size=(90, 16)):
        view = app.query_one(GraphView)
        texts = [text for text, _ in view.lines]
        assert texts[0] == "loss ◀ SumBackward0"
        assert texts[1].endswith("MulBackward0 (z)")
        styles = dict((text.split("→ ")[-1].split()[0], style) for text, style in view.lines[2:])
        assert styles == {"x": "highlight", "y": "leaf"}
        assert view.border_title == "autograd graph of loss"


async def test_note_only_and_empty_graphs(worker_host: WorkerHost) -> None:
    leaf = real_graph(worker_host, "x")
    app = GraphApp(None)
    async with app.run_test(size=(90, 16)) as pilot:
        view = app.query_one(GraphView)
        assert view.lines[0][1] == "plain"  # the hint before any graph
        view.show_graph(leaf)
        await pilot.pause()
        assert any("is a leaf" in text for text, _ in view.lines)
        view.show_graph({"root": "q", "nodes": [], "edges": [], "note": "no variable named q"})
        await pilot.pause()
        assert view.lines == [("no variable named q", "plain")]
        view.show_graph({})
        await pilot.pause()
        assert view.lines == [("this value: no graph to show", "plain")]


async def test_long_graph_scrolls() -> None:
    """A 60-step chain is taller than the widget: it scrolls instead of being cut."""
    nodes = [{"id": "n0", "kind": "tensor", "label": "w", "var": "w"}]
    edges = []
    for i in range(1, 61):
        nodes.append({"id": f"n{i}", "kind": "op", "label": "AddBackward0", "var": None})
        edges.append([f"n{i - 1}", f"n{i}"])
    app = GraphApp({"root": "w", "nodes": nodes, "edges": edges, "truncated": False})
    async with app.run_test(size=(90, 16)) as pilot:
        view = app.query_one(GraphView)
        assert view.max_scroll_y > 0
        view.focus()
        await pilot.press("end")
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y


def test_snapshot_graph(worker_host: WorkerHost, snap_compare) -> None:
    app = GraphApp(real_graph(worker_host), highlight="z")
    assert snap_compare(app, terminal_size=(90, 14))
