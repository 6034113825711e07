"""matplotlib backend that turns figures into plot dicts for the terminal.

Selected with ``MPLBACKEND=module://autograd_tutor.core.runner.cell.mpl_backend`` (set by
the cell process before matplotlib is imported), so learner code written for Jupyter
(`plt.plot(x, y); plt.show()`) works unchanged. Modern module:// backend layout
(matplotlib >= 3.6, checked against 3.11's pyplot.switch_backend): the module exports
`FigureCanvas`, whose `manager_class` overrides `pyplot_show`; pyplot derives
`new_figure_manager` and `show` from them.

* `plt.show()`: every open figure is sent, then closed (Jupyter inline semantics).
* `plt.show(block=False)`, `plt.pause()`, `fig.show()`: sent, left open, so an update
  loop redraws the same plot (same key) instead of making a new one each time.
* end of the cell (`plotting.flush()` calls `show_all(close=True)`): figures never
  shown are sent and closed, as a notebook would display them.

It never opens a window and never blocks. The canvas is Agg's, so `savefig` keeps
working.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib
import numpy as np
from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from autograd_tutor.core.plotdata import downsample
from autograd_tutor.core.runner.cell import plotting

# Guard against `for ...: plt.plot(...); plt.show()` flooding the UI with figures.
MAX_FIGURES_PER_CELL = 32

_KEY_ATTR = "_autograd_tutor_key"
_n_figures = 0  # keys handed out in this cell
_n_skipped = 0


def reset() -> None:
    """New cell: close leftovers silently, number keys from 1 again."""
    global _n_figures, _n_skipped
    Gcf.destroy_all()
    _n_figures = 0
    _n_skipped = 0


def show_all(close: bool) -> None:
    """Send every open pyplot figure drawn with this backend; optionally close them."""
    for manager in list(Gcf.get_all_fig_managers()):
        if isinstance(manager, FigureManager):
            _send_figure(manager.canvas.figure)
            if close:
                Gcf.destroy(manager)


def _send_figure(fig: Figure) -> None:
    global _n_figures, _n_skipped
    key = getattr(fig, _KEY_ATTR, None)
    if key is None:
        if _n_figures >= MAX_FIGURES_PER_CELL:
            _n_skipped += 1
            return
        _n_figures += 1
        key = f"mpl-{_n_figures}"
        setattr(fig, _KEY_ATTR, key)
    for i, ax in enumerate(fig.get_axes()):
        plotting.send_now(axes_to_dict(ax, key if i == 0 else f"{key}.{i}"))


def axes_to_dict(ax: Any, key: str) -> dict[str, Any]:
    """One Axes as a plot dict: lines, scatter collections, labels, log y."""
    labels = _legend_labels(ax)
    series: list[dict[str, Any]] = []
    dropped = 0
    ax.get_xlim(), ax.get_ylim()  # settle autoscaled limits before using transData
    for artist in ax.get_children():
        if isinstance(artist, Line2D):
            data = _in_data_coords(ax, artist, artist.get_xydata())
            kind = "line" if artist.get_linestyle() not in ("None", "", " ") else "scatter"
        elif isinstance(artist, PathCollection):
            data = artist.get_offsets()  # scatter(): one path per point
            kind = "scatter"
        else:
            continue  # bars, images, fills, text: not drawable as terminal lines
        points, n_bad = _finite_points(data)
        dropped += n_bad
        label = labels.get(id(artist), artist.get_label())
        if not label or label.startswith("_"):
            label = ""  # matplotlib's "_child3": not meant to be shown
        series.append({"label": label, "kind": kind, "points": points})
    fig = ax.get_figure()
    title = ax.get_title() or ax.get_title("left") or ax.get_title("right")
    if not title and fig is not None and getattr(fig, "_suptitle", None) is not None:
        title = fig._suptitle.get_text()
    for s in series:
        s["points"] = downsample(s["points"], plotting.points_per_series(len(series)))
    return {
        "key": key,
        "title": title,
        "xlabel": ax.get_xlabel(),
        "ylabel": ax.get_ylabel(),
        "logy": ax.get_yscale() == "log",
        "series": series,
        "dropped": dropped,
    }


def _in_data_coords(ax: Any, artist: Any, xy: Any) -> Any:
    # axhline/axvline live partly in axes coordinates (0..1): map them into data space.
    transform = artist.get_transform()
    if transform == ax.transData or len(xy) == 0:
        return xy
    try:
        return (transform - ax.transData).transform(np.asarray(xy, dtype=float))
    except Exception:
        return xy


def _finite_points(data: Any) -> tuple[list[list[float]], int]:
    # Masked arrays (from NaNs or masked input) become NaN, then are counted as dropped.
    arr = np.ma.filled(np.ma.asarray(data, dtype=float), np.nan).reshape(-1, 2)
    ok = np.isfinite(arr).all(axis=1)
    return arr[ok].tolist(), int((~ok).sum())


def _legend_labels(ax: Any) -> dict[int, str]:
    """Labels given to `legend([...])` positionally are not stored on the artists."""
    legend = ax.get_legend()
    if legend is None:
        return {}
    texts = [t.get_text() for t in legend.get_texts()]
    handles, own = ax.get_legend_handles_labels()
    if own == texts:
        return {}  # labels came from label=...: get_label() is already right
    try:
        # Same order as matplotlib's own pairing in legend(labels) (private but stable
        # since 3.5); if it is gone, the artists' own labels are used instead.
        from matplotlib.legend import _get_legend_handles

        return {id(a): t for a, t in zip(_get_legend_handles([ax]), texts, strict=False)}
    except Exception:
        return {}


class FigureManager(FigureManagerBase):
    """No window: showing a figure means sending it to the tutor's UI."""

    def show(self) -> None:
        # fig.show(): send now, keep open (the learner may keep drawing into it).
        _send_figure(self.canvas.figure)

    @classmethod
    def pyplot_show(cls, *, block: bool | None = None) -> None:
        # Never blocks; block=False (plt.pause, animation loops) keeps figures open so
        # the next frame updates the same plot.
        show_all(close=block is not False)


class FigureCanvas(FigureCanvasAgg):
    manager_class = FigureManager

    def draw_idle(self, *args: Any, **kwargs: Any) -> None:
        # Interactive mode (plt.ion()) asks for a redraw after every command: send, but
        # throttled like plot.point, instead of rendering pixels nobody sees.
        # plt.pause() calls this too, then show(block=False): send only in ion() mode.
        if (
            matplotlib.is_interactive()
            and plotting.due()
            and Gcf.has_fignum(getattr(self.manager, "num", -1))
        ):
            _send_figure(self.figure)

    def start_event_loop(self, timeout: float = 0) -> None:
        # plt.pause(t): just wait; there is no GUI event loop to run.
        import time

        if timeout > 0 and math.isfinite(timeout):
            time.sleep(timeout)


FigureCanvasAutogradTutor = FigureCanvas
FigureManagerAutogradTutor = FigureManager
