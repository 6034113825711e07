"""Plot widget benchmark: each figure beside a baseline measured in the same run.

    .venv/bin/python bench/bench_plot.py [--quick]

Targets:
  prepare + draw a 10,000-point series in a PlotView at 100x30 <= 50 ms
    (baseline: plotext drawing the raw 10,000 points itself, in a PlotextPlot of the same size);
  largest gap between frames <= 100 ms while a cell streams 10,000 points through a real
    Session into a PlotPanel (a 20 ms timer records time.perf_counter(); we report the max gap).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time
from typing import Any

from textual.app import App, ComposeResult
from textual_plotext import PlotextPlot

from autograd_tutor.core.results import CellOutcome
from autograd_tutor.core.runner.client import WorkerHost
from autograd_tutor.ui.widgets.plot_view import PlotPanel, PlotView

SIZE = (100, 30)
N_POINTS = 10_000
TICK = 0.02  # seconds between frame-gap samples

STREAM_CODE = """\
import math, time
from autograd_tutor import plot
plot.title("streamed loss")
plot.logy(True)
for i in range({n}):
    plot.point(math.exp(-i / 2000) + 0.01 * (1 + math.sin(i / 7)))
    if i % 10 == 0:
        time.sleep(0.002)  # a training step's worth of time: the curve grows for ~2 s
"""


def series_plot(n: int, logy: bool) -> dict[str, Any]:
    points = [[float(i), math.exp(-i / 2000) + 0.01 * (1 + math.sin(i / 7))] for i in range(n)]
    return {
        "key": "plot",
        "title": "loss",
        "xlabel": "step",
        "ylabel": "loss",
        "logy": logy,
        "series": [{"label": "loss", "kind": "line", "points": points}],
        "dropped": 0,
    }


class DrawApp(App[None]):
    CSS = "PlotView, PlotextPlot { width: 100; height: 30; }"

    def compose(self) -> ComposeResult:
        yield PlotView()
        yield PlotextPlot()


async def draw_times(repeats: int) -> dict[str, float]:
    app = DrawApp()
    out: dict[str, float] = {}
    async with app.run_test(size=(SIZE[0], SIZE[1] * 2)) as pilot:
        await pilot.pause()
        view = app.query_one(PlotView)
        naive = app.query_one(PlotextPlot)
        assert (view.size.width, view.size.height) == SIZE, view.size
        for logy in (False, True):
            plot = series_plot(N_POINTS, logy)

            def ours(plot: dict[str, Any] = plot) -> float:
                start = time.perf_counter()
                view.plot = plot
                view.redraw()  # plotdata.prepare + the plotext calls
                view.render()  # plotext builds the canvas: what a frame costs
                return time.perf_counter() - start

            out["ours_log" if logy else "ours"] = statistics.median(ours() for _ in range(repeats))
        plot = series_plot(N_POINTS, False)
        xs = [p[0] for p in plot["series"][0]["points"]]
        ys = [p[1] for p in plot["series"][0]["points"]]

        def baseline() -> float:
            start = time.perf_counter()
            naive.plt.clear_data()
            naive.plt.plot(xs, ys, marker="braille")
            naive.render()
            return time.perf_counter() - start

        out["baseline"] = statistics.median(baseline() for _ in range(repeats))
    return out


class CountingView(PlotView):
    renders = 0

    def render(self):  # type: ignore[no-untyped-def]
        # The headless test app still builds every frame (it only skips the terminal
        # write): count them, to show the frames measured were real ones.
        CountingView.renders += 1
        return super().render()


class CountingPanel(PlotPanel):
    view_class = CountingView


class StreamApp(App[None]):
    def __init__(self, host: WorkerHost) -> None:
        super().__init__()
        self.host = host
        self.stamps: list[float] = []
        self.events = 0
        self.result: CellOutcome | None = None

    def compose(self) -> ComposeResult:
        yield CountingPanel()

    def on_mount(self) -> None:
        self.set_interval(TICK, lambda: self.stamps.append(time.perf_counter()))

    def stream(self, code: str) -> None:
        """In a thread, as the app runs cells: plot events reach the UI thread as they come."""
        panel = self.query_one(PlotPanel)
        session = self.host.new_session()

        def on_event(event: dict[str, Any]) -> None:
            if event.get("ev") == "plot":
                self.events += 1
                self.call_from_thread(panel.update_plot, event["plot"])

        try:
            self.result = session.run(code, timeout=60, on_event=on_event)
        finally:
            session.close()


async def frame_gaps(host: WorkerHost, n: int) -> dict[str, Any]:
    app = StreamApp(host)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        panel = app.query_one(PlotPanel)
        start_index = len(app.stamps)
        began = time.perf_counter()
        await asyncio.to_thread(app.stream, STREAM_CODE.format(n=n))
        elapsed = time.perf_counter() - began
        await pilot.pause(0.3)
        stamps = app.stamps[start_index:]
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        view = next(iter(panel.views.values()))
        last = view.drawn["series"][0]["points"][-1] if view.drawn else None
    assert app.result is not None and app.result.status == "ok", app.result
    return {
        "max_gap": max(gaps),
        "p99_gap": sorted(gaps)[int(len(gaps) * 0.99) - 1],
        "samples": len(gaps),
        "events": app.events,
        "renders": CountingView.renders,
        "seconds": elapsed,
        "last_point": last,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 15

    times = asyncio.run(draw_times(repeats))
    ms = {k: v * 1000 for k, v in times.items()}
    print(f"draw {N_POINTS:,} points in a PlotView at {SIZE[0]}x{SIZE[1]} (median of {repeats}):")
    print(f"  ours, linear y:          {ms['ours']:7.1f} ms  (target <= 50 ms)")
    print(f"  ours, log y:             {ms['ours_log']:7.1f} ms  (target <= 50 ms)")
    print(
        f"  baseline, plotext raw:   {ms['baseline']:7.1f} ms  ({ms['baseline'] / ms['ours']:.1f}x ours)"
    )

    with WorkerHost() as host:
        host.wait_ready()
        gaps = asyncio.run(frame_gaps(host, N_POINTS))
    print(f"stream {N_POINTS:,} points through a Session into a PlotPanel ({SIZE[0]}x{SIZE[1]}):")
    print(f"  largest frame gap:       {gaps['max_gap'] * 1000:7.1f} ms  (target <= 100 ms)")
    print(
        f"  99th percentile gap:     {gaps['p99_gap'] * 1000:7.1f} ms  (timer every {TICK * 1000:.0f} ms)"
    )
    print(
        f"  {gaps['events']} plot events in {gaps['seconds']:.2f} s, {gaps['renders']} renders, "
        f"{gaps['samples']} samples; last point drawn {gaps['last_point']}"
    )


if __name__ == "__main__":
    main()
