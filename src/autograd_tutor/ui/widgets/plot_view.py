"""Plots from cells: a textual-plotext widget fed with plot dicts, and a panel of them.

A plot dict (see `core.runner.plotting`) arrives up to ~10 times a second while a cell
runs, each a full picture. Drawing is the expensive part (plotext builds the whole canvas
in Python), so `show_plot` only stores the dict and redraws at most every REDRAW_INTERVAL
seconds: the first update draws at once, later ones within the interval are coalesced into
one timer, and the latest dict always wins.

Log scales: plotext's own log axis fails for values below 1 (most losses), so
`plotdata.prepare` takes log10 of y itself and gives tick labels in real units; the same
call downsamples every series to what the widget's width can show (2 points a column).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual.app import RenderResult
from textual.containers import Vertical
from textual.timer import Timer
from textual_plotext import PlotextPlot

from autograd_tutor.core.plotdata import apply_labels, notes, prepare
from autograd_tutor.core.safe_text import one_line

REDRAW_INTERVAL = 0.1  # seconds: at most ~10 redraws a second, whatever the event rate
DEFAULT_WIDTH = 80  # used to downsample before the widget has a size
LINE_MARKER = "braille"  # 2x4 dots per cell: matches plotdata's 2 points per column
SCATTER_MARKER = "•"  # single braille dots are too faint for unconnected points


class PlotView(PlotextPlot):
    """One plot dict drawn with plotext. API: `show_plot(plot)`.

    Notes (NaN/inf values left out, values a log scale cannot show) are drawn below the
    plot, inside the widget. Override `redraw` to observe the actual (throttled) draws.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"plot-view--note"}

    DEFAULT_CSS = """
    PlotView {
        height: 1fr;
        min-height: 8;
    }
    PlotView > .plot-view--note {
        color: $warning;
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.plot: dict[str, Any] | None = None  # the latest dict given to show_plot
        self.drawn: dict[str, Any] | None = None  # the dict the canvas shows now
        self.prepared: dict[str, Any] | None = None  # what was drawn (downsampled, log10)
        self.notes: list[str] = []
        self._source: Mapping[str, Any] | None = None  # the object show_plot last got
        self._timer: Timer | None = None
        self._last_redraw = -REDRAW_INTERVAL
        self._drawn_width = 0

    # -- API ---------------------------------------------------------------------------

    def show_plot(self, plot: Mapping[str, Any]) -> None:
        """Show `plot` (a full plot dict); redraws are throttled, the latest dict wins.

        Call on the UI thread (from a thread worker: `app.call_from_thread` or a message).
        """
        if plot is self._source:
            return  # the same event again (a repaint tick polling the latest plots): nothing new
        self._source = plot
        self.plot = dict(plot)
        if self._timer is not None or not self.is_mounted:
            return  # the pending timer (or on_mount) draws whatever is latest by then
        wait = self._last_redraw + REDRAW_INTERVAL - time.monotonic()
        if wait <= 0:
            self._flush()
        else:
            self._timer = self.set_timer(wait, self._flush, name="plot-redraw")

    @property
    def pending(self) -> bool:
        """True while a throttled redraw is waiting for its timer."""
        return self._timer is not None

    def flush(self) -> None:
        """Draw the latest dict now, skipping the throttle (e.g. when a cell ends)."""
        if self._timer is not None:
            self._timer.stop()
        self._flush()

    # -- drawing -----------------------------------------------------------------------

    def _flush(self) -> None:
        self._timer = None
        if self.plot is None:
            return
        self._last_redraw = time.monotonic()
        self.redraw()

    def redraw(self) -> None:
        """Prepare the latest plot for the current width, set up the canvas, repaint.

        Every throttled draw goes through here: a hook for tests and benchmarks.
        """
        self._configure()
        # textual-plotext draws in render(): the data changed, so ask for a repaint.
        self.refresh()

    def _configure(self) -> None:
        plot = self.plot
        if plot is None:
            return
        width = self.size.width or DEFAULT_WIDTH
        prepared = prepare(plot, width)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()  # also forgets title, labels and ticks of the previous dict
        for series in prepared["series"]:
            points = series.get("points") or []
            if not points:
                continue
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            label = one_line(series.get("label") or "") or None
            if series.get("kind") == "scatter":
                plt.scatter(xs, ys, label=label, marker=SCATTER_MARKER)
            else:
                plt.plot(xs, ys, label=label, marker=LINE_MARKER)
        # textual-plotext reads plotext's canvas back as ANSI: a label from the cell must
        # hold no escape of its own.
        for key in ("title", "xlabel", "ylabel"):
            if prepared.get(key):
                prepared[key] = one_line(prepared[key])
        apply_labels(plt, prepared)
        self.drawn = plot
        self.prepared = prepared
        self.notes = notes(prepared)
        self._drawn_width = width

    def render(self) -> RenderResult:
        # As PlotextPlot.render, but leaving rows at the bottom for the notes.
        width, height = self.size.width, self.size.height
        if self.plot is not None and width and width != self._drawn_width:
            # Downsampling depends on the width. Checked here rather than on Resize: a
            # render always knows the real size (a view mounted in place of removed ones
            # was seen to get no Resize at all), and before the first layout there is none.
            self._configure()
        plot_height = max(3, height - len(self.notes))
        self._plot.plotsize(width, plot_height)
        # textual-plotext's "belt-and-braces" size call (its issue #5): resizing is not
        # reliable without it.
        set_size = getattr(self._plot, "_set_size", None)
        if set_size is not None:
            set_size(width, plot_height)
        self._plot.theme(f"textual-auto-{self.app.theme}" if self.theme == "auto" else self.theme)
        text = Text.from_ansi(self._plot.build())
        if text.plain.endswith("\n"):
            text.right_crop(1)  # else the first note lands one row too low, below the fold
        if self.notes:
            style = self.get_component_rich_style("plot-view--note")
            for note in self.notes[: max(0, height - plot_height)]:
                text.append("\n")
                text.append(note, style=style)
        return text


class PlotPanel(Vertical):
    """One PlotView per plot key (a cell can draw several figures).

    API: `update_plot(plot)` (create or update the view for `plot["key"]`), `clear()`.
    """

    view_class: type[PlotView] = PlotView  # what update_plot creates (tests may count draws)

    DEFAULT_CSS = """
    PlotPanel {
        height: auto;
    }
    PlotPanel > PlotView {
        height: 16;
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.views: dict[str, PlotView] = {}

    def update_plot(self, plot: Mapping[str, Any]) -> PlotView:
        """Show `plot` in the view for its key, creating the view on first sight."""
        key = str(plot.get("key") or "plot")
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = self.view_class()
            # show_plot before mounting is fine: the view draws the latest dict on mount.
            view.show_plot(plot)
            self.mount(view)
        else:
            view.show_plot(plot)
        return view

    def clear(self) -> None:
        """Remove every plot (a new run of the cell starts with none)."""
        self.views.clear()
        self.remove_children()
