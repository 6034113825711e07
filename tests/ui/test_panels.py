"""The lesson view's panels against the real worker: inspector, graph, plots, explorer."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from autograd_tutor.ui import commands
from autograd_tutor.ui.screens.explorer import ExplorerScreen
from autograd_tutor.ui.screens.lesson import LessonBody, LessonScreen
from autograd_tutor.ui.widgets.graph_view import GraphView
from autograd_tutor.ui.widgets.inspector import MARK, TensorInspector
from autograd_tutor.ui.widgets.panels import LessonPanels
from autograd_tutor.ui.widgets.plot_view import PlotPanel

from .helpers import PANELS, cell_text, cells_done, lesson_screen, open_lesson, plain, wait_for

# Slow lane (every panel with the real worker): CI runs it; `pytest -m "not slow"` leaves it out.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def parts(screen: LessonScreen) -> tuple[LessonPanels, TensorInspector, GraphView]:
    panels = screen.query_one(LessonPanels)
    return panels, panels.inspector, panels.graph_view


async def graph_of(pilot: Pilot, name: str) -> GraphView:
    """Wait until the graph panel shows the graph of `name` that the worker sent."""
    screen = lesson_screen(pilot)
    state = screen.state

    def arrived() -> bool:
        return state.graph_target == name and (state.graph or {}).get("root") == name

    await wait_for(pilot, arrived, what=f"the graph of {name}")
    await pilot.pause()
    view = screen.query_one(GraphView)
    assert view.display and view.border_title == f"autograd graph of {name}"
    return view


def marks(inspector: TensorInspector) -> dict[str, str]:
    return {name: str(inspector.get_row_at(i)[0]) for i, name in enumerate(inspector.names)}


async def test_inspector_toggle_selection_and_changed_marks(make_app) -> None:
    app = make_app(PANELS)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        panels, inspector, graph = parts(screen)
        assert not panels.display
        await pilot.press("enter")  # x, y, z, loss
        await cells_done(pilot)
        await pilot.press("v")
        assert panels.display and inspector.display and not graph.display
        assert app.focused is inspector  # the arrows now pick a tensor
        assert inspector.names == ["loss", "x", "y", "z"]
        assert marks(inspector) == dict.fromkeys(["loss", "x", "y", "z"], MARK)  # all new

        await pilot.press("escape")  # back to the cells; the inspector stays open
        assert app.focused is screen.query_one(LessonBody) and inspector.display
        await pilot.press("down", "enter")  # loss.backward(): only the leaves' grads change
        await cells_done(pilot)
        assert marks(inspector) == {"loss": " ", "x": MARK, "y": MARK, "z": " "}
        row = dict(zip([k for k, _ in inspector.columns.items()], inspector.get_row_at(1)))
        assert str(row["name"]) == "x" and str(row["grad"]) == "tensor([4., 5., 6.])"

        await pilot.press("v")  # open already: v goes to it
        assert app.focused is inspector
        await pilot.press("down", "enter")  # from loss to x; enter shows its graph
        view = await graph_of(pilot, "x")
        assert any("x is a leaf" in text for text, _ in view.lines)

        await pilot.press("v")  # focused: v hides it; the graph stays
        assert not inspector.display and graph.display
        assert app.focused is screen.query_one(LessonBody)


async def test_graph_of_the_cells_tensor_names_the_leaves(make_app) -> None:
    app = make_app(PANELS)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("enter")  # z = x * y; loss = z.sum()
        await cells_done(pilot)
        await pilot.press("g")  # the cell's last assignment: loss
        view = await graph_of(pilot, "loss")
        texts = [text for text, _ in view.lines]
        assert texts[0] == "loss ◀ SumBackward0"
        assert texts[1] == "└─ MulBackward0 (z)"
        assert texts[2].startswith("   ├─ AccumulateGrad → x  leaf requires_grad grad=None")
        assert texts[3].startswith("   └─ AccumulateGrad → y  leaf requires_grad grad=None")

        # The open graph follows the cells: after backward() the leaves have grads.
        await pilot.press("down", "enter")
        await cells_done(pilot)
        texts = [text for text, _ in view.lines]
        assert texts[2].endswith("x  leaf requires_grad grad=tensor([4., 5., 6.])")

        await pilot.press("g")  # loss.backward() names loss too: g again hides the graph
        assert not view.display and screen.state.graph_target is None
        assert not screen.query_one(LessonPanels).display


async def test_graph_highlights_the_variable_an_error_came_from(make_app) -> None:
    app = make_app(PANELS)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("down", "down", "u")  # the forward pass, backward, z.backward()
        await cells_done(pilot)
        text = cell_text(pilot, 2)
        assert "RuntimeError: grad can be implicitly created only for scalar outputs" in text
        assert "💡" in text and "Fix:" in text  # the explanation under the error
        await pilot.press("g")
        view = await graph_of(pilot, "z")
        assert view.highlight == "z"
        assert view.lines[0] == ("z ◀ MulBackward0", "highlight")
        assert all(style != "highlight" for _, style in view.lines[1:])

        # An in-place change: the message blames the operation whose result was changed.
        screen.move_to(3)
        await pilot.press("enter")
        await cells_done(pilot)
        await pilot.press("g")
        view = await graph_of(pilot, "b")
        lit = [text for text, style in view.lines if style == "highlight"]
        assert len(lit) == 1 and lit[0].endswith("ExpBackward0"), view.lines
        assert view.lines[0][0] == "b ◀ AddBackward0"


async def test_matplotlib_plot_is_a_widget_under_the_cell(make_app) -> None:
    app = make_app(PANELS)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        screen.move_to(4)
        await pilot.press("enter")  # plt.plot(...); plt.show()
        await cells_done(pilot)
        panel = screen.views[4].query_one(PlotPanel)
        assert panel.display and len(panel.views) == 1
        (view,) = panel.views.values()
        assert view.drawn is not None and view.drawn["title"] == "fixture parabola"
        assert not view.pending and view.size.height >= 8
        assert "fixture parabola" not in cell_text(pilot, 4)  # no text plot as well


async def test_plot_grows_while_the_cell_runs(make_app) -> None:
    app = make_app(PANELS)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        screen.move_to(5)
        cs = screen.state.cells[5]
        panel = screen.views[5].query_one(PlotPanel)
        await pilot.press("enter")
        await wait_for(pilot, lambda: cs.running and bool(panel.views), what="a live plot")
        (view,) = panel.views.values()
        live = len(view.plot["series"][0]["points"])
        await cells_done(pilot)
        assert live < 40  # drawn while the cell was still running
        assert view.drawn is not None and view.drawn["title"] == "fixture live loss"
        assert len(view.drawn["series"][0]["points"]) == 40 and not view.pending


async def test_explorer_from_its_key_and_the_palette(make_app) -> None:
    app = make_app(PANELS)
    async with app.run_test(size=(100, 34)) as pilot:
        first = await open_lesson(pilot, 1)
        assert not first.query("#explorer-hint")  # the hint is the regression lesson's
        await pilot.press("n")
        await wait_for(pilot, lambda: lesson_screen(pilot).state.lesson.id == "linear-regression")
        screen = lesson_screen(pilot)
        hint = plain(screen.query_one("#explorer-hint", Static))
        assert "press o" in hint and "learning-rate explorer" in hint

        async def explored() -> ExplorerScreen:
            await wait_for(pilot, lambda: isinstance(app.screen, ExplorerScreen), 10)
            explorer = app.screen
            assert isinstance(explorer, ExplorerScreen)
            table = explorer.query_one("#explorer-finals", DataTable)
            await wait_for(pilot, lambda: explorer.runs >= 1 and table.row_count > 0, 60)
            shown = {b.binding.action for b in explorer.active_bindings.values()}
            assert {"rerun", "toggle", "close"} <= shown  # its keys are in its footer
            return explorer

        await pilot.press("o")
        explorer = await explored()
        assert explorer.host is app.host
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, 10, "the lesson again")

        found = [c for c in commands.commands(app, screen) if "learning-rate explorer" in c.title]
        assert len(found) == 1
        await pilot.press("c")  # the palette, by name
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        await pilot.press(*"open the learning-rate explorer")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await explored()
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, 10, "the lesson again")


async def test_panels_fit_80x24_beside_from_120_and_survive_40x12(make_app) -> None:
    app = make_app(PANELS)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("enter")
        await cells_done(pilot)
        await pilot.press("v", "escape", "g")
        await graph_of(pilot, "loss")
        panels, inspector, graph = parts(screen)
        body = screen.query_one(LessonBody)
        assert panels.region.y + panels.region.height <= 23  # above the footer
        assert panels.region.height <= 14 and body.region.height >= 8
        assert inspector.region.height >= 3 and graph.region.height >= 3
        assert inspector.region.height == inspector.row_count + 2  # all four tensors shown

        await pilot.resize_terminal(130, 34)
        await pilot.pause()
        assert screen.has_class("-wide")
        assert panels.region.x > body.region.x and panels.region.height == 32  # beside

        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        await pilot.press("g", "v", "v")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert panels.region.y + panels.region.height <= 11


async def test_graph_asked_for_while_a_cell_runs_waits_for_the_cell(make_app) -> None:
    """Session.graph shares the socket of the running cell: the request queues behind it."""
    app = make_app(PANELS)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("enter")
        await cells_done(pilot)
        screen.move_to(5)  # the slow, plotting cell
        await pilot.press("enter")
        slow = screen.state.cells[5]
        await wait_for(pilot, lambda: slow.running, what="the slow cell to start")
        screen.move_to(0)
        await pilot.press("g")
        view = screen.query_one(GraphView)
        assert slow.running and screen.state.graph is None
        assert [text for text, _ in view.lines] == ["reading the graph…"]
        view = await graph_of(pilot, "loss")
        assert not slow.running and slow.result is not None and slow.result.status == "ok"
        assert view.lines[0][0] == "loss ◀ SumBackward0"
