"""The payloads of `plot`, `inspect` and `graph` frames: checked, and capped with a note.

A cap is drawn with a note, as a flood of output is: `points_capped` on a figure (plotdata
says how many points were left out), `truncated` and a `note` on a graph. The cell sends
less than the caps (plotting.py, introspect.py): only a frame written by learner code meets
them. Pure standard library.
"""

from __future__ import annotations

from typing import Any

from autograd_tutor.core.runner.shared.fieldcheck import (
    Bad,
    as_dict,
    boolean,
    finite,
    listed,
    shape,
    short,
    text,
    whole,
)

MAX_PLOT_POINTS = 20_000  # points of one figure, all series together
MAX_PLOT_SERIES = 64
MAX_PLOT_KEYS = 256  # figures in one cell (subplots count one each)
MAX_GRAPH_NODES = 500
MAX_GRAPH_EDGES = 4 * MAX_GRAPH_NODES
MAX_TENSOR_ROWS = 500
PLOT_KINDS = ("line", "scatter")


def checked_plot(p: dict[str, Any]) -> dict[str, Any]:
    """A figure with its fields checked, capped at MAX_PLOT_SERIES series and
    MAX_PLOT_POINTS points; `points_capped` counts what the caps left out."""
    series_in = listed(p, "series")
    left_out = sum(_length(s) for s in series_in[MAX_PLOT_SERIES:])
    room = MAX_PLOT_POINTS
    series = []
    for s in series_in[:MAX_PLOT_SERIES]:
        s = as_dict(s, "a series")
        kind = text(s, "kind")
        if kind not in PLOT_KINDS:
            raise Bad(f"a series of kind {short(kind)}")
        points = listed(s, "points")
        kept = [_point(pt) for pt in points[:room]]
        left_out += len(points) - len(kept)
        room -= len(kept)
        series.append({"label": text(s, "label"), "kind": kind, "points": kept})
    figure: dict[str, Any] = {
        "key": text(p, "key"),
        "title": text(p, "title", default=""),
        "xlabel": text(p, "xlabel", default=""),
        "ylabel": text(p, "ylabel", default=""),
        "logy": boolean(p, "logy", default=False),
        "series": series,
        "dropped": whole(p, "dropped", default=0),
    }
    capped = left_out + whole(p, "points_capped", default=0)
    if capped:
        figure["points_capped"] = capped
    return figure


def _length(series: Any) -> int:
    points = series.get("points") if isinstance(series, dict) else None
    return len(points) if isinstance(points, list) else 0


def _point(pt: Any) -> list[float]:
    if not isinstance(pt, list) or len(pt) != 2:
        raise Bad("a plot point that is not [x, y]")
    return [finite(pt[0], "a plot point"), finite(pt[1], "a plot point")]


def checked_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": text(r, "name"),
        "shape": shape(r),
        "dtype": text(r, "dtype"),
        "requires_grad": boolean(r, "requires_grad"),
        "is_leaf": boolean(r, "is_leaf"),
        "grad": text(r, "grad", none=True),
        "grad_fn": text(r, "grad_fn", none=True),
        "value": text(r, "value"),
        "fingerprint": text(r, "fingerprint"),
    }


def checked_graph(g: dict[str, Any]) -> dict[str, Any]:
    """A graph with its fields checked, capped at MAX_GRAPH_NODES nodes (and the edges
    between those), with a note when the cap cut it."""
    nodes_in = listed(g, "nodes")
    nodes = []
    for n in nodes_in[:MAX_GRAPH_NODES]:
        n = as_dict(n, "a graph node")
        node = {
            "id": text(n, "id"),
            "label": text(n, "label"),
            "kind": text(n, "kind"),
            "var": text(n, "var", none=True, default=None),
            "requires_grad": boolean(n, "requires_grad", default=False),
            "grad": text(n, "grad", none=True, default=None),
            "shape": shape(n, none=True),
        }
        nodes.append(node)
    ids = {n["id"] for n in nodes}
    edges = []
    for e in listed(g, "edges"):
        if not (isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e)):
            raise Bad("a graph edge that is not [from, to]")
        if e[0] in ids and e[1] in ids and len(edges) < MAX_GRAPH_EDGES:
            edges.append([e[0], e[1]])
    graph: dict[str, Any] = {
        "root": text(g, "root"),
        "nodes": nodes,
        "edges": edges,
        "truncated": boolean(g, "truncated", default=False) or len(nodes_in) > MAX_GRAPH_NODES,
    }
    for key in ("reason", "note"):
        if g.get(key) is not None:
            graph[key] = text(g, key)
    if len(nodes_in) > MAX_GRAPH_NODES:
        cut = f"{len(nodes_in)} nodes: the first {MAX_GRAPH_NODES} are drawn"
        graph["note"] = f"{graph['note']}; {cut}" if graph.get("note") else cut
    return graph
