"""PlotView and PlotPanel: drawing plot dicts, log scale, notes, throttled redraws."""

from __future__ import annotations

import math
from typing import Any

import pytest
from textual.app import App, ComposeResult

from autograd_tutor.ui.widgets.plot_view import REDRAW_INTERVAL, PlotPanel, PlotView

from .conftest import wait_for

pytestmark = pytest.mark.anyio


def loss_plot(n: int = 200, dropped: int = 3) -> dict[str, Any]:
    """Two loss curves, one falling below 1 (where plotext's own log scale fails)."""
    return {
        "key": "plot",
        "title": "loss per step",
        "xlabel": "step",
        "ylabel": "loss",
        "logy": True,
        "series": [
            {
                "label": "lr=0.01",
                "kind": "line",
                "points": [[i, 50 * math.exp(-i / 30) + 1e-3] for i in range(n)],
            },
            {
                "label": "lr=0.001",
                "kind": "line",
                "points": [[i, 50 * math.exp(-i / 300)] for i in range(n)],
            },
        ],
        "dropped": dropped,
    }


def fit_plot() -> dict[str, Any]:
    xs = [1.0, 2.0, 3.0, 4.0, 5.0]
    return {
        "key": "plot:fit",
        "title": "data and fit",
        "xlabel": "x",
        "ylabel": "y",
        "logy": False,
        "series": [
            {"label": "data", "kind": "scatter", "points": [[x, 2 * x + 1] for x in xs]},
            {"label": "fit", "kind": "line", "points": [[x, 1.8 * x + 1.4] for x in xs]},
        ],
        "dropped": 0,
    }


class CountingView(PlotView):
    """Counts the real draws: the throttle's observable effect."""

    def __init__(self) -> None:
        super().__init__()
        self.redraws = 0

    def redraw(self) -> None:
        self.redraws += 1
        super().redraw()


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CountingView()


class PanelApp(App[None]):
    def __init__(self, plots: list[dict[str, Any]]) -> None:
        super().__init__()
        self.plots = plots

    def compose(self) -> ComposeResult:
        yield PlotPanel()

    def on_mount(self) -> None:
        panel = self.query_one(PlotPanel)
        for plot in self.plots:
            panel.update_plot(plot)


async def test_log_scale_and_notes() -> None:
    app = ViewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(CountingView)
        view.show_plot(loss_plot())
        await pilot.pause()
        prepared = view.prepared
        assert prepared is not None and prepared["log10"] is True
        # log10 applied by plotdata: 50 -> ~1.7, 0.066 -> ~-1.2
        ys = [y for s in prepared["series"] for _, y in s["points"]]
        assert max(ys) == pytest.approx(math.log10(50), abs=0.01) and min(ys) < -1
        assert view.notes == ["3 value(s) were NaN or infinite and are not drawn: did it diverge?"]
        text = str(view.render())
        assert "loss (log scale)" in text
        assert "1e0" in text and "did it diverge?" in text


async def test_downsampled_to_the_width() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(CountingView)
        view.show_plot(loss_plot(n=10_000, dropped=0))
        await pilot.pause()
        for series in view.prepared["series"]:
            assert len(series["points"]) <= 2 * 60
            assert series["points"][-1][0] == 9_999  # the newest point is always kept


async def test_redraws_are_throttled_and_the_last_update_wins() -> None:
    app = ViewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(CountingView)
        await pilot.pause()
        before = view.redraws
        plots = []
        for n in range(1, 1001):
            plot = loss_plot(n=n, dropped=0)
            plots.append(plot)
            view.show_plot(plot)
        # A burst: one draw at once (leading edge), the rest coalesced into one timer.
        assert view.redraws - before <= 2
        assert view.pending
        await pilot.pause(REDRAW_INTERVAL * 3)
        assert not view.pending
        assert view.redraws - before <= 3
        assert view.drawn == plots[-1]
        assert view.prepared["series"][0]["points"][-1][0] == 999
        # The same dict again (a repaint tick polling the latest plots) costs nothing.
        drawn = view.redraws
        for _ in range(10):
            view.show_plot(plots[-1])
            await pilot.pause(REDRAW_INTERVAL / 2)
        assert view.redraws == drawn and not view.pending


async def test_panel_one_view_per_key_and_clear() -> None:
    app = PanelApp([loss_plot(), fit_plot()])
    async with app.run_test(size=(100, 40)) as pilot:
        panel = app.query_one(PlotPanel)
        await pilot.pause()
        assert set(panel.views) == {"plot", "plot:fit"}
        assert len(panel.query(PlotView)) == 2
        updated = loss_plot(n=50)
        assert panel.update_plot(updated) is panel.views["plot"]
        await pilot.pause(REDRAW_INTERVAL * 2)
        assert len(panel.query(PlotView)) == 2
        assert panel.views["plot"].drawn == updated
        panel.clear()
        await pilot.pause()
        assert panel.views == {} and len(panel.query(PlotView)) == 0
        fit = panel.update_plot(fit_plot())
        # A new view draws once laid out (its first Resize), a frame or two later.
        await wait_for(pilot, lambda: fit.drawn is not None, 5, "the new view")
        assert fit.drawn["key"] == "plot:fit" and fit.size.width == 100


async def test_resize_redraws_for_the_new_width() -> None:
    app = ViewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(CountingView)
        view.show_plot(loss_plot(n=10_000, dropped=0))
        await pilot.pause()
        await pilot.resize_terminal(40, 30)
        await pilot.pause(REDRAW_INTERVAL * 3)
        assert all(len(s["points"]) <= 80 for s in view.prepared["series"])


async def all_drawn(pilot) -> None:
    """Both views drawn at their real width, no redraw pending."""
    panel = pilot.app.query_one(PlotPanel)

    def done() -> bool:
        views = list(panel.views.values())
        return len(views) == 2 and all(
            v.drawn is not None and not v.pending and v.size.width == 100 for v in views
        )

    await wait_for(pilot, done, 5, "the plots")


def test_snapshot_plots(snap_compare) -> None:
    app = PanelApp([fit_plot(), loss_plot()])
    assert snap_compare(app, terminal_size=(100, 34), run_before=all_drawn)
