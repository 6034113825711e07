"""ExplorerScreen with a real worker: the first run, the keys, reruns, closing."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from autograd_tutor.core.lesson import ExplorerSetup
from autograd_tutor.core.parser import parse_file
from autograd_tutor.core.runner.client import WorkerHost
from autograd_tutor.ui.screens.explorer import ExplorerScreen
from autograd_tutor.ui.widgets.plot_view import PlotView

from .conftest import wait_for

pytestmark = pytest.mark.anyio
SIZE = (100, 34)
LESSON = Path(__file__).parents[2] / "lessons" / "09-linear-regression.en.md"


def syllabus_setup() -> ExplorerSetup:
    """The explorer as the linear-regression lesson's front matter sets it up."""
    setup = parse_file(LESSON).explorer
    assert setup is not None
    return setup


class ExplorerApp(App[None]):
    def __init__(self, host: WorkerHost, setup: ExplorerSetup | None = None) -> None:
        super().__init__()
        self.host = host
        self.setup = setup or syllabus_setup()

    def on_mount(self) -> None:
        self.push_screen(ExplorerScreen(self.host, self.setup))


def explorer(pilot: Pilot) -> ExplorerScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ExplorerScreen), screen
    return screen


async def first_run(pilot: Pilot) -> None:
    """Wait (bounded) until the first run's table is filled and its plot is drawn."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExplorerScreen), 10, "the screen")
    screen = explorer(pilot)

    def ready() -> bool:
        table = screen.query_one("#explorer-finals", DataTable)
        view = screen.query_one(PlotView)
        return screen.runs >= 1 and table.row_count > 0 and not view.pending

    await wait_for(pilot, ready, 60, "the explorer's first run")
    await pilot.pause()


async def test_defaults_show_divergence_and_convergence(worker_host: WorkerHost) -> None:
    app = ExplorerApp(worker_host)
    async with app.run_test(size=SIZE) as pilot:
        await first_run(pilot)
        screen = explorer(pilot)
        assert screen.finals["0.1"]["diverged"] is True
        assert screen.finals["0.01"]["diverged"] is False
        view = screen.query_one(PlotView)
        assert view.drawn is not None and view.drawn["logy"] is True
        labels = sorted(s["label"] for s in view.drawn["series"])
        assert labels == ["lr=0.01", "lr=0.1"]


async def test_keys_change_the_choice_and_rerun(worker_host: WorkerHost) -> None:
    app = ExplorerApp(worker_host)
    async with app.run_test(size=SIZE) as pilot:
        await first_run(pilot)
        screen = explorer(pilot)
        assert screen.explorer.cursor == 0.01
        await pilot.press("left", "space")  # add 0.003
        await pilot.press("l", "l", "t")  # move to 0.03, add it
        await pilot.press("plus", "right_square_bracket", "minus")  # 100 -> 400 -> 200
        assert sorted(screen.explorer.rates) == [0.003, 0.01, 0.03, 0.1]
        assert screen.explorer.epochs == 200
        await pilot.press("h", "t")  # back to 0.01 and remove it
        assert sorted(screen.explorer.rates) == [0.003, 0.03, 0.1]
        await pilot.press("left_square_bracket")
        assert screen.explorer.epochs == 100
        assert screen.runs == 1  # changes alone do not run
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.runs == 2, 60, "the rerun")
        assert set(screen.finals) == {"0.003", "0.03", "0.1"}
        table = screen.query_one("#explorer-finals", DataTable)
        assert table.row_count == 3


async def test_rerun_while_running_and_close(worker_host: WorkerHost) -> None:
    """Enter twice quickly: the newer run wins; escape closes and ends the session."""
    app = ExplorerApp(worker_host)
    async with app.run_test(size=SIZE) as pilot:
        await first_run(pilot)
        screen = explorer(pilot)
        screen.explorer.epochs = 5000
        await pilot.press("enter")
        screen.explorer.epochs = 20
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.running and screen.runs >= 2, 60, "the runs")
        view = screen.query_one(PlotView)
        await wait_for(pilot, lambda: not view.pending, 5, "the last plot")
        assert all(len(s["points"]) == 20 for s in view.drawn["series"])
        session = screen._session
        assert session is not None and session.alive
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExplorerScreen), 5, "closing")
        assert not session.alive


async def test_a_lesson_without_explorer_says_so(worker_host: WorkerHost) -> None:
    app = App[None]()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ExplorerScreen(worker_host, None))
        await pilot.pause()
        screen = explorer(pilot)
        intro = screen.query_one("#explorer-intro", Static).render()
        assert "has no learning-rate explorer" in str(intro)
        await pilot.press("enter", "space", "plus")  # nothing to run or change
        await pilot.pause(0.2)
        assert screen.explorer is None and screen._session is None and screen.runs == 0


def test_snapshot_explorer(worker_host: WorkerHost, snap_compare) -> None:
    assert snap_compare(ExplorerApp(worker_host), terminal_size=SIZE, run_before=first_run)
