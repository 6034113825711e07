"""Draw an autograd graph (the dict from `runner.introspect.graph`) as a text tree.

Pure text: used by the UI (which maps the style tags to colours) and by `run` (which prints
plain lines), so it imports neither torch nor textual.

    loss ◀ SumBackward0
    └─ MulBackward0 (z)
       ├─ AccumulateGrad → x  leaf requires_grad grad=tensor([4., 5., 6.])
       └─ AccumulateGrad → y  leaf requires_grad grad=tensor([1., 2., 3.])

Each line comes with a style tag: "op" (an operation), "nonleaf" (an operation whose
result is one of the learner's variables), "leaf", "highlight" (the variable asked for),
"plain" (notes). A node reached a second time (a shared subgraph, or `x * x`) is drawn once;
later mentions say "see above" and are not expanded again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autograd_tutor.core.safe_text import one_line

Line = tuple[str, str]

# Past this depth the tree stops indenting, so a long chain (a loop that rebinds a tensor
# every step) stays readable in a terminal instead of drifting off to the right.
MAX_INDENT_DEPTH = 16
SEE_ABOVE = "  ↑ see above"
GRAPH_LINE_LIMIT = 400  # a line longer than this (a hostile label) is cut


def _leaf_text(node: Mapping[str, Any]) -> str:
    flags = ["leaf"]
    if node.get("requires_grad"):
        flags.append("requires_grad")
    if not node.get("var") and node.get("shape") is not None:
        flags.append(f"shape {node['shape']}")
    flags.append(f"grad={node.get('grad')}")
    return f"{node.get('var') or '(unnamed)'}  {' '.join(flags)}"


def _op_text(node: Mapping[str, Any]) -> str:
    var = node.get("var")
    return f"{node.get('label', '?')} ({var})" if var else str(node.get("label", "?"))


class _Renderer:
    def __init__(self, graph: Mapping[str, Any], highlight: str | None) -> None:
        self.nodes: dict[str, Mapping[str, Any]] = {n["id"]: n for n in graph.get("nodes", [])}
        self.children: dict[str, list[str]] = {}
        for src, dst in graph.get("edges", []):
            if src in self.nodes and dst in self.nodes:
                self.children.setdefault(src, []).append(dst)
        self.highlight = highlight
        self.shown: set[str] = set()
        self.lines: list[Line] = []

    def _lit(self, node: Mapping[str, Any], *names: Any) -> bool:
        return self.highlight is not None and self.highlight in (node.get("id"), *names)

    def describe(self, nid: str) -> tuple[str, str, list[str]]:
        """(text, style, children to draw below) for one node."""
        node = self.nodes[nid]
        kids = self.children.get(nid, [])
        if node.get("kind") == "leaf":
            style = "highlight" if self._lit(node, node.get("var")) else "leaf"
            return _leaf_text(node), style, []
        if node.get("label") == "AccumulateGrad" and len(kids) == 1:
            # Fold the leaf into its AccumulateGrad line: that is where its .grad comes from.
            leaf = self.nodes[kids[0]]
            if leaf.get("kind") == "leaf":
                self.shown.add(kids[0])
                style = "highlight" if self._lit(node, leaf.get("var"), leaf["id"]) else "leaf"
                return f"AccumulateGrad → {_leaf_text(leaf)}", style, []
        if self._lit(node, node.get("var")):
            style = "highlight"
        else:
            style = "nonleaf" if node.get("var") else "op"
        return _op_text(node), style, kids

    def draw(self, start: list[str], prefix: str, depth: int) -> None:
        # Iterative depth-first walk: graphs can be deeper than Python's recursion limit.
        stack: list[tuple[str, str, bool, int]] = [
            (nid, prefix, i == len(start) - 1, depth) for i, nid in reversed(list(enumerate(start)))
        ]
        while stack:
            nid, pre, last, d = stack.pop()
            text, style, kids = self.describe(nid)
            branch = "└─ " if last else "├─ "
            if nid in self.shown:
                self.lines.append((f"{pre}{branch}{text}{SEE_ABOVE}", style))
                continue
            self.shown.add(nid)
            self.lines.append((f"{pre}{branch}{text}", style))
            child_pre = pre + ("   " if last else "│  ") if d < MAX_INDENT_DEPTH else pre
            for i in reversed(range(len(kids))):
                stack.append((kids[i], child_pre, i == len(kids) - 1, d + 1))

    def render(self, graph: Mapping[str, Any]) -> list[Line]:
        root_name = graph.get("root", "?")
        order = [n["id"] for n in graph.get("nodes", []) if n.get("id") in self.nodes]
        if not order:
            self.lines.append((str(graph.get("note") or f"{root_name}: no graph"), "plain"))
            return self.lines
        targets = {dst for kids in self.children.values() for dst in kids}
        root_id = next((nid for nid in order if nid not in targets), order[0])
        root = self.nodes[root_id]
        kids = self.children.get(root_id, [])
        self.shown.add(root_id)
        if root.get("kind") == "tensor" and len(kids) == 1:
            # `loss ◀ SumBackward0`: the root and the operation that produced it, one line.
            fn = self.nodes[kids[0]]
            self.shown.add(kids[0])
            name = root.get("var") or root_name
            style = "highlight" if self._lit(root, name, fn["id"]) else "nonleaf"
            self.lines.append((f"{name} ◀ {fn.get('label', '?')}", style))
            self.draw(self.children.get(kids[0], []), "", 0)
        else:
            text, style, below = self.describe(root_id)
            self.lines.append((text, style))
            self.draw(below, "", 0)
        if graph.get("note"):
            self.lines.append((str(graph["note"]), "plain"))
        if graph.get("truncated"):
            self.lines.append((f"… more nodes not shown (limit {len(order)})", "plain"))
        return self.lines


def render_graph(graph: Mapping[str, Any], highlight: str | None = None) -> list[Line]:
    """Lines of (text, style) drawing `graph` top-down from its root.

    `highlight` is a variable name (or node id) whose line gets the "highlight" style.
    """
    # Names and labels come from the cell: every line passes the one sanitiser.
    return [(one_line(text, GRAPH_LINE_LIMIT), style) for text, style in _Renderer(graph, highlight).render(graph)]
