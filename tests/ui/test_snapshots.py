"""Snapshots of the main screens (pytest-textual-snapshot). Update: `pytest --snapshot-update`.

Kept deterministic: no durations (show_times=False), a fixed worker line (stable_status),
cells run to the end before the picture, and a fixed explanation for the error snapshot
so that edits to the error catalogue (tested elsewhere) do not move these pictures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from autograd_tutor.core import lessonrun
from autograd_tutor.core.results import Explanation

from .helpers import PANELS, cells_done, lesson_screen, open_lesson, wait_for

SNAP_SIZE = (100, 30)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def from_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths on screen are shown relative to the cwd: make it the same for every run."""
    monkeypatch.chdir(REPO)


def stable_app(make_app, path: Path | None = None):
    if path is not None:
        return make_app(path, show_times=False, stable_status=True)
    return make_app(show_times=False, stable_status=True)


FIXED_EXPLANATION = Explanation(
    id="fixed",
    title="backward() on a tensor autograd never tracked",
    what="The tensor has no grad_fn and does not require grad.",
    why="Nothing was recorded for it.",
    fix="Create the inputs with requires_grad=True.",
    snippet="w = torch.ones(2, requires_grad=True)\n(w * 2).sum().backward()",
    lesson=None,
)


def fixed_explanation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every error explained by FIXED_EXPLANATION, where the core explains errors."""
    monkeypatch.setattr(lessonrun, "explain", lambda *args, **kwargs: FIXED_EXPLANATION)


async def ready(pilot: Pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.worker_status == "worker: ready", what="the worker")


def test_snapshot_lesson_list(make_app, snap_compare) -> None:
    assert snap_compare(stable_app(make_app), terminal_size=SNAP_SIZE, run_before=ready)


def test_snapshot_lesson_with_outputs(make_app, snap_compare) -> None:
    async def run_two(pilot: Pilot) -> None:
        await ready(pilot)
        await open_lesson(pilot, 1)
        await pilot.press("down", "u")
        await cells_done(pilot)

    assert snap_compare(stable_app(make_app), terminal_size=SNAP_SIZE, run_before=run_two)


def test_snapshot_error(make_app, snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_explanation(monkeypatch)

    async def run_error(pilot: Pilot) -> None:
        await ready(pilot)
        await open_lesson(pilot, 1)
        await pilot.press("down", "down", "u")
        await cells_done(pilot)

    assert snap_compare(stable_app(make_app), terminal_size=SNAP_SIZE, run_before=run_error)


def test_snapshot_help_overlay(make_app, snap_compare) -> None:
    async def help_over_lesson(pilot: Pilot) -> None:
        await ready(pilot)
        await open_lesson(pilot, 2)
        await pilot.press("question_mark")

    assert snap_compare(stable_app(make_app), terminal_size=SNAP_SIZE, run_before=help_over_lesson)


def test_snapshot_shipped_lesson_list_at_80x24(make_app, snap_compare) -> None:
    """Sixteen lessons, two lines each: titles and progress on one, the summary cut on the
    next (tests/ui/test_navigation.py checks the same without a picture)."""
    from autograd_tutor.core.library import shipped_lessons

    app = stable_app(make_app, shipped_lessons())
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_snapshot_small_terminal(make_app, snap_compare) -> None:
    async def small(pilot: Pilot) -> None:
        await ready(pilot)
        await open_lesson(pilot, 2)

    assert snap_compare(stable_app(make_app), terminal_size=(40, 12), run_before=small)


def test_snapshot_inspector(make_app, snap_compare) -> None:
    """After the forward pass and backward(): ● on the two leaves whose grads changed."""

    async def inspect(pilot: Pilot) -> None:
        await ready(pilot)
        await open_lesson(pilot, 1)
        await pilot.press("down", "u")
        await cells_done(pilot)
        await pilot.press("v")
        await pilot.pause()

    app = stable_app(make_app, PANELS)
    assert snap_compare(app, terminal_size=SNAP_SIZE, run_before=inspect)


def test_snapshot_graph(make_app, snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    """`z.backward()` fails: g shows the graph of z with z highlighted, under the error."""
    fixed_explanation(monkeypatch)

    async def graph(pilot: Pilot) -> None:
        await ready(pilot)
        await open_lesson(pilot, 1)
        await pilot.press("down", "down", "u")
        await cells_done(pilot)
        await pilot.press("g")
        state = lesson_screen(pilot).state
        await wait_for(pilot, lambda: state.graph is not None, what="the graph")
        await pilot.pause()

    app = stable_app(make_app, PANELS)
    assert snap_compare(app, terminal_size=SNAP_SIZE, run_before=graph)
