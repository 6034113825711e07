"""Plot data helpers shared by the cell process, the widget and `autograd-tutor run`.

Pure Python on purpose: the UI process must never import torch, and importing plotext
at module import would slow down every process that only needs downsampling. plotext is
imported inside `to_text` only.

A plot dict (the `plot` event payload, see docs/architecture.md) looks like::

    {"key": str, "title": str, "xlabel": str, "ylabel": str, "logy": bool,
     "series": [{"label": str, "kind": "line" | "scatter", "points": [[x, y], ...]}],
     "dropped": int,   # NaN/inf values left out by the sender (a diverging loss)
     "points_capped": int}  # only when > 0: points over the relay's cap, not drawn
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# One terminal column holds 2 braille dots across, so ~2 points per column is all a
# widget can show; more only costs time.
POINTS_PER_COLUMN = 2

# Without colours (text output, `theme("clear")`) series must differ by marker.
_MARKERS = ("braille", "•", "x", "+", "o", "*")

Point = Sequence[float]


def downsample(points: Sequence[Point], max_points: int) -> list[list[float]]:
    """Reduce `points` to at most `max_points`, keeping the shape.

    Min/max per bucket: a spike (a diverging step, a bad batch) survives, which random
    or stride sampling would lose. The first and last points are always kept exactly,
    so the newest loss value is the one the learner sees. When x is sorted (the usual
    case: steps, linspace) buckets are equal x ranges, so a series whose older part was
    already compacted is still spread evenly over the width; otherwise equal counts.
    """
    if max_points < 4:
        raise ValueError(f"max_points must be at least 4, got {max_points}")
    n = len(points)
    if n <= max_points:
        return [[p[0], p[1]] for p in points]
    n_buckets = (max_points - 2) // 2
    first, last = points[0], points[-1]
    interior_start, interior_end = 1, n - 1  # [start, end) between first and last
    x_sorted = all(points[i][0] <= points[i + 1][0] for i in range(n - 1))
    x0, x1 = points[interior_start][0], points[interior_end - 1][0]
    by_x = x_sorted and x1 > x0

    out: list[list[float]] = [[first[0], first[1]]]
    # Walk the interior once, closing a bucket whenever its boundary is crossed: O(n).
    lo_i = hi_i = -1
    bucket = 0
    count = interior_end - interior_start
    span = x1 - x0
    for i in range(interior_start, interior_end):
        p = points[i]
        if by_x:
            b = int((p[0] - x0) / span * n_buckets)
            if b >= n_buckets:
                b = n_buckets - 1
        else:
            b = (i - interior_start) * n_buckets // count
        if b != bucket and lo_i >= 0:
            _close_bucket(points, lo_i, hi_i, out)
            lo_i = hi_i = -1
        bucket = b
        if lo_i < 0:
            lo_i = hi_i = i
        else:
            y = p[1]
            if y < points[lo_i][1]:
                lo_i = i
            elif y > points[hi_i][1]:
                hi_i = i
    if lo_i >= 0:
        _close_bucket(points, lo_i, hi_i, out)
    out.append([last[0], last[1]])
    return out


def _close_bucket(points: Sequence[Point], lo_i: int, hi_i: int, out: list[list[float]]) -> None:
    # Emit the bucket's extremes in their original order so lines do not zigzag backwards.
    for i in sorted({lo_i, hi_i}):
        out.append([points[i][0], points[i][1]])


def safe_log10(ys: Sequence[float]) -> tuple[list[float], list[int]]:
    """log10 of the positive, finite values; returns (logs, indices kept).

    plotext's own log scale breaks for values below 1 (losses!), so renderers plot
    log10 values on a linear axis instead; zero and negative values cannot be shown.
    """
    logs: list[float] = []
    kept: list[int] = []
    for i, y in enumerate(ys):
        if y > 0 and math.isfinite(y):
            logs.append(math.log10(y))
            kept.append(i)
    return logs, kept


def log_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[tuple[float, str]]:
    """Tick positions (in log10 units) and labels in real units for a log axis."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    first, last = math.ceil(lo), math.floor(hi)
    if last - first >= 1:
        # At least two whole decades inside: label only powers of ten.
        step = max(1, math.ceil((last - first + 1) / max_ticks))
        return [(float(k), f"1e{k}") for k in range(first, last + 1, step)]
    if hi == lo:
        return [(lo, f"{10**lo:.3g}")]
    n = max(2, min(max_ticks, 5))
    ticks = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    return [(t, f"{10**t:.3g}") for t in ticks]


def prepare(plot_dict: dict[str, Any], width: int) -> dict[str, Any]:
    """What a widget `width` columns wide should draw.

    Returns a new dict (the input is not changed) with every series downsampled to about
    2 points per column and, when `logy` is set, y replaced by log10(y): the result then
    has `"log10": True`, `"log_dropped"` (non-positive values that cannot be drawn) and
    `"yticks"` ([[position, label], ...] in log10 units, labelled in real units).
    """
    max_points = max(4, POINTS_PER_COLUMN * int(width))
    logy = bool(plot_dict.get("logy"))
    series_out: list[dict[str, Any]] = []
    log_dropped = 0
    y_lo, y_hi = math.inf, -math.inf
    for series in plot_dict.get("series") or []:
        points = [p for p in series.get("points") or [] if _finite_point(p)]
        if logy:
            logs, kept = safe_log10([p[1] for p in points])
            log_dropped += len(points) - len(kept)
            points = [[points[i][0], ly] for i, ly in zip(kept, logs, strict=True)]
        points = downsample(points, max_points)
        for _, y in points:
            y_lo, y_hi = min(y_lo, y), max(y_hi, y)
        series_out.append({**series, "points": points})
    out = {**plot_dict, "series": series_out}
    out.setdefault("dropped", 0)
    if logy:
        out["log10"] = True
        out["log_dropped"] = log_dropped
        out["yticks"] = [[t, label] for t, label in log_ticks(y_lo, y_hi)]
    return out


def _finite_point(p: Any) -> bool:
    # The sender already filters, but a dict can come from elsewhere (tests, old records).
    try:
        return math.isfinite(p[0]) and math.isfinite(p[1])
    except (TypeError, IndexError):
        return False


def notes(prepared: dict[str, Any]) -> list[str]:
    """Plain-language warnings to show under a plot (diverged loss, hidden values)."""
    out: list[str] = []
    dropped = int(prepared.get("dropped") or 0)
    if dropped:
        out.append(f"{dropped} value(s) were NaN or infinite and are not drawn: did it diverge?")
    capped = int(prepared.get("points_capped") or 0)
    if capped:
        out.append(f"{capped} point(s) over the limit of a figure are not drawn.")
    log_dropped = int(prepared.get("log_dropped") or 0)
    if log_dropped:
        out.append(f"{log_dropped} value(s) <= 0 cannot be drawn on a log scale.")
    return out


def to_text(plot_dict: dict[str, Any], width: int = 80, height: int = 20) -> str:
    """Draw a plot dict as plain text (no colour codes) with plotext."""
    import plotext as plt  # only when drawing: keeps `import plotdata` cheap

    prepared = prepare(plot_dict, width)
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    marker_i = 0
    for series in prepared["series"]:
        points = series["points"]
        if not points:
            continue
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        marker = _MARKERS[marker_i % len(_MARKERS)]
        marker_i += 1
        if series.get("kind") == "scatter":
            if marker == "braille":  # single braille dots are too faint for a scatter
                marker = "•"
            plt.scatter(xs, ys, label=series.get("label") or None, marker=marker)
        else:
            plt.plot(xs, ys, label=series.get("label") or None, marker=marker)
    apply_labels(plt, prepared)
    text = plt.uncolorize(plt.build())
    plt.clear_figure()  # plotext state is global: leave nothing behind for the next caller
    lines = [line.rstrip() for line in text.splitlines()]
    lines.extend(notes(prepared))
    return "\n".join(lines)


def apply_labels(plt: Any, prepared: dict[str, Any]) -> None:
    """Title, axis labels and, on a log scale, tick labels in the data's own units.

    `plt` is plotext itself or textual-plotext's per-widget stand-in: both have this API.
    """
    if prepared.get("title"):
        plt.title(str(prepared["title"]))
    if prepared.get("xlabel"):
        plt.xlabel(str(prepared["xlabel"]))
    ylabel = str(prepared.get("ylabel") or "")
    if prepared.get("log10"):
        ylabel = f"{ylabel} (log scale)".strip()
        ticks = prepared.get("yticks") or []
        if ticks:
            plt.yticks([t for t, _ in ticks], [label for _, label in ticks])
    if ylabel:
        plt.ylabel(ylabel)
