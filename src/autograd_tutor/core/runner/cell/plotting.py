"""Learner plot API, running inside the cell process (`from autograd_tutor import plot`).

The cell process calls `install(emit)` once, `reset()` before each cell and `flush()`
after each cell. API calls only change in-memory figures; changes are sent as full plot
dicts (see `autograd_tutor.core.plotdata`) at most every `THROTTLE_S`, so a training
loop calling `plot.point(loss)` 100,000 times costs microseconds per call and sends a
handful of events, while the learner still sees the curve grow.

No torch import here: tensors are converted by duck typing (`.detach().cpu().tolist()`),
so this module also loads in processes that never import torch.
"""

from __future__ import annotations

import math
import signal
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from autograd_tutor.core.plotdata import downsample
from autograd_tutor.core.runner.shared.payloads import MAX_PLOT_POINTS

# Seconds between two sends while a cell runs: fast enough to look live, slow enough
# that the UI never drowns in events.
THROTTLE_S = 0.1
# Points per series in one event: ~2 per column of a wide terminal.
MAX_SEND_POINTS = 2000
# A streamed series is compacted (min/max buckets) when it grows past COMPACT_AT, so a
# run of millions of steps keeps bounded memory and bounded cost per send.
COMPACT_AT = 20_000
COMPACT_TO = 10_000
# Guards against loops creating a new figure or series every step.
MAX_FIGURES = 32
MAX_SERIES = 16

DEFAULT_FIGURE = "plot"
_MPL_BACKEND_MODULE = "autograd_tutor.core.runner.cell.mpl_backend"

PlotDict = dict[str, Any]

_CAN_MASK = hasattr(signal, "pthread_sigmask")


class _Series:
    __slots__ = ("label", "kind", "points", "dropped", "n_seen")

    def __init__(self, label: str, kind: str) -> None:
        self.label = label
        self.kind = kind
        self.points: list[tuple[float, float]] = []
        self.dropped = 0  # NaN/inf values left out
        self.n_seen = 0  # values offered, finite or not: the next default x of point()

    def append(self, x: float, y: float) -> None:
        self.n_seen += 1
        if math.isfinite(x) and math.isfinite(y):
            self.points.append((x, y))
            if len(self.points) > COMPACT_AT:
                self.points = [(p[0], p[1]) for p in downsample(self.points, COMPACT_TO)]
        else:
            self.dropped += 1


class _Figure:
    def __init__(self, key: str) -> None:
        self.key = key
        self.title = ""
        self.xlabel = ""
        self.ylabel = ""
        self.logy = False
        self.series: dict[str, _Series] = {}
        self.n_unlabelled = 0

    def get_series(self, label: str, kind: str) -> _Series:
        series = self.series.get(label)
        if series is None:
            if len(self.series) >= MAX_SERIES:
                # Drop the oldest: a loop plotting a new curve each epoch shows the latest.
                del self.series[next(iter(self.series))]
            series = self.series[label] = _Series(label, kind)
        return series

    def to_dict(self) -> PlotDict:
        return {
            "key": self.key,
            "title": self.title,
            "xlabel": self.xlabel,
            "ylabel": self.ylabel,
            "logy": self.logy,
            "series": [
                {
                    "label": s.label,
                    "kind": s.kind,
                    "points": downsample(s.points, points_per_series(len(self.series))),
                }
                for s in self.series.values()
            ],
            "dropped": sum(s.dropped for s in self.series.values()),
        }


def points_per_series(count: int) -> int:
    """Points each of `count` series may send: MAX_SEND_POINTS, less when many series
    share the figure, so that one figure stays within the relay's cap of all its points."""
    return max(4, min(MAX_SEND_POINTS, MAX_PLOT_POINTS // max(count, 1)))


_emit: Callable[[PlotDict], None] | None = None
_figures: dict[str, _Figure] = {}
_dirty: set[str] = set()
_last_send = 0.0
_warned_figures = False


def install(emit: Callable[[PlotDict], None]) -> None:
    """Route plot dicts to `emit` (the cell process wraps them in a `plot` event)."""
    global _emit
    _emit = emit


def reset() -> None:
    """Forget all figures: a new cell starts with none, and keys are reused per cell."""
    global _last_send, _warned_figures
    _figures.clear()
    _dirty.clear()
    _last_send = 0.0
    _warned_figures = False
    mpl = sys.modules.get(_MPL_BACKEND_MODULE)
    if mpl is not None:
        mpl.reset()


def flush() -> None:
    """Send every pending change now, including matplotlib figures never shown."""
    global _last_send
    _last_send = time.monotonic()
    for key in [k for k in _figures if k in _dirty]:
        _send(_figures[key].to_dict())
    _dirty.clear()
    # Only if a cell actually used our matplotlib backend: never import matplotlib here.
    mpl = sys.modules.get(_MPL_BACKEND_MODULE)
    if mpl is not None:
        mpl.show_all(close=True)


def send_now(plot_dict: PlotDict) -> None:
    """Send one ready-made dict at once (matplotlib's `plt.show()`)."""
    global _last_send
    _last_send = time.monotonic()
    _send(plot_dict)


def due() -> bool:
    """True when the throttle allows a send now."""
    return time.monotonic() - _last_send >= THROTTLE_S


def _send(plot_dict: PlotDict) -> None:
    if _emit is None:
        return
    # Sends happen inside learner code, where Ctrl-C (SIGINT -> KeyboardInterrupt) may
    # land at any bytecode: hold it off so a frame on the socket is never cut in half. A
    # pending SIGINT is delivered as soon as the mask is restored.
    if _CAN_MASK:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            _emit(plot_dict)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
    else:
        _emit(plot_dict)


def _changed(key: str) -> None:
    # Called by every API function: cheap unless a send is due.
    global _last_send
    _dirty.add(key)
    now = time.monotonic()
    if now - _last_send >= THROTTLE_S:
        _last_send = now
        for k in [k for k in _figures if k in _dirty]:
            try:
                _send(_figures[k].to_dict())
            except Exception:  # noqa: BLE001 - a plot must never break the learner's loop
                return  # still dirty: flush() at the end of the cell tries again
            _dirty.discard(k)


def _figure(figure: Any) -> _Figure:
    global _warned_figures
    key = DEFAULT_FIGURE if figure is None else f"{DEFAULT_FIGURE}:{figure}"
    fig = _figures.get(key)
    if fig is None:
        if len(_figures) >= MAX_FIGURES:
            if not _warned_figures:
                _warned_figures = True
                warnings.warn(
                    f"more than {MAX_FIGURES} figures in one cell: drawing into the last one",
                    stacklevel=3,
                )
            return _figures[next(reversed(_figures))]
        fig = _figures[key] = _Figure(key)
    return fig


# ---------------------------------------------------------------- value conversion


def _unwrap(value: Any) -> Any:
    """Tensor / array -> nested lists or a Python number, by duck typing."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "tolist"):
        value = value.tolist()
    return value


def _to_float(value: Any, what: str) -> float:
    value = _unwrap(value)
    while isinstance(value, (list, tuple)) and len(value) == 1:
        value = _unwrap(value[0])  # a 1-element tensor/list is one number
    if isinstance(value, (str, bytes, list, tuple, dict)):
        raise TypeError(f"plot.{what}: expected a number, got {type(value).__name__}")
    try:
        return float(value)
    except OverflowError:  # an int too big for a float: as unplottable as inf
        return math.inf
    except (TypeError, ValueError):
        raise TypeError(f"plot.{what}: expected a number, got {type(value).__name__}") from None


def _to_floats(values: Any, what: str) -> list[float]:
    """Flatten lists, tuples, arrays, tensors or a list of 0-d tensors into floats."""
    values = _unwrap(values)
    if isinstance(values, (str, bytes, dict)):
        raise TypeError(f"plot.{what}: expected numbers, got {type(values).__name__}")
    if not isinstance(values, (list, tuple)):
        try:
            values = list(values)  # range, generator, ...
        except TypeError:
            return [_to_float(values, what)]  # a single number
    out: list[float] = []
    _flatten(values, out, what)
    return out


def _flatten(values: list[Any] | tuple[Any, ...], out: list[float], what: str) -> None:
    for v in values:
        t = type(v)
        if t is float:
            out.append(v)
        elif t is int:
            try:
                out.append(float(v))
            except OverflowError:
                out.append(math.inf)
        elif t is list or t is tuple:
            _flatten(v, out, what)  # shape (N, 1) outputs of a model are common
        else:
            v = _unwrap(v)  # e.g. losses.append(loss) without .item()
            if isinstance(v, (list, tuple)):
                _flatten(v, out, what)
            else:
                out.append(_to_float(v, what))


def _pairs(xs: Any, ys: Any, what: str) -> tuple[list[float], list[float]]:
    y = _to_floats(ys, what)
    if xs is None:
        return [float(i) for i in range(len(y))], y
    x = _to_floats(xs, what)
    if len(x) != len(y):
        raise ValueError(f"plot.{what}: xs has {len(x)} values but ys has {len(y)}")
    return x, y


def _set_series(fig: _Figure, label: Any, kind: str, xs: list[float], ys: list[float]) -> None:
    if label is None:
        # Unlabelled calls add curves (two calls, two lines); a label replaces in place,
        # which is what a loop redrawing predictions each epoch wants.
        fig.n_unlabelled += 1
        label = f"{kind} {fig.n_unlabelled}"
    series = fig.get_series(str(label), kind)
    series.kind = kind
    series.points = []
    series.dropped = 0
    series.n_seen = 0
    for x, y in zip(xs, ys, strict=True):
        series.append(x, y)


# ---------------------------------------------------------------- learner API


def line(ys: Any, xs: Any = None, label: str | None = None, figure: Any = None) -> None:
    """Draw ys (against xs, default 0, 1, 2, ...) as a line. Same label: replaced."""
    x, y = _pairs(xs, ys, "line")
    fig = _figure(figure)
    _set_series(fig, label, "line", x, y)
    _changed(fig.key)


def scatter(xs: Any, ys: Any, label: str | None = None, figure: Any = None) -> None:
    """Draw points (xs[i], ys[i]) unconnected. Same label: replaced."""
    x, y = _pairs(xs, ys, "scatter")
    fig = _figure(figure)
    _set_series(fig, label, "scatter", x, y)
    _changed(fig.key)


def point(y: Any, x: Any = None, label: str = "loss", figure: Any = None) -> None:
    """Append one point to the line `label`, e.g. the loss of each step; x defaults to
    the number of points appended before (NaN/inf included, so steps stay aligned)."""
    fy = _to_float(y, "point")
    fig = _figure(figure)
    series = fig.get_series(str(label), "line")
    fx = float(series.n_seen) if x is None else _to_float(x, "point")
    series.append(fx, fy)
    _changed(fig.key)


def title(text: Any, figure: Any = None) -> None:
    fig = _figure(figure)
    fig.title = str(text)
    _changed(fig.key)


def xlabel(text: Any, figure: Any = None) -> None:
    fig = _figure(figure)
    fig.xlabel = str(text)
    _changed(fig.key)


def ylabel(text: Any, figure: Any = None) -> None:
    fig = _figure(figure)
    fig.ylabel = str(text)
    _changed(fig.key)


def logy(on: bool = True, figure: Any = None) -> None:
    """Log-scale the y axis (losses). Values <= 0 cannot be drawn and are counted."""
    fig = _figure(figure)
    fig.logy = bool(on)
    _changed(fig.key)


__all__ = [
    "flush",
    "install",
    "line",
    "logy",
    "point",
    "reset",
    "scatter",
    "title",
    "xlabel",
    "ylabel",
]
