"""Snapshots of the app in Chinese: a shipped lesson at 80x24 and 120x40 (its prose wrapped
between characters, with the kinsoku rules), the list, the help and an exercise's result.
Update: `pytest tests/ui/test_snapshots_zh.py --snapshot-update`, then look at each picture.

Lesson 1 is the shipped one on purpose (the issue's example paragraph); an edit of its
first screen moves these two pictures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from autograd_tutor.ui import i18n

from .helpers import cells_done, wait_for
from .test_snapshots import ready

REPO = Path(__file__).resolve().parents[2]
ZH_EXERCISE = Path(__file__).parent / "zh_fixtures" / "02-exercise.zh.md"
LESSON_1 = REPO / "lessons" / "01-tensors.zh.md"

pytestmark = pytest.mark.slow  # each starts the app on a real worker


@pytest.fixture(autouse=True)
def from_the_repo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(REPO)  # paths on screen are relative to the cwd
    yield
    i18n.set_language("en")


def zh_app(make_app, *path: Path):
    """The app in Chinese on `path` (default: the test fixtures), drawn the same every run."""
    return make_app(*path, lang="zh", show_times=False, stable_status=True)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_chinese_lesson(make_app, snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(zh_app(make_app, LESSON_1), terminal_size=size, run_before=ready)


def test_snapshot_chinese_list(make_app, snap_compare) -> None:
    assert snap_compare(zh_app(make_app), terminal_size=(100, 30), run_before=ready)


def test_snapshot_chinese_help(make_app, snap_compare) -> None:
    async def help_open(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(zh_app(make_app), terminal_size=(100, 30), run_before=help_open)


def test_snapshot_chinese_exercise_result(make_app, snap_compare) -> None:
    async def run_exercise(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("down", "u")  # up to the exercise as it is: its check fails
        await cells_done(pilot)
        await pilot.press("h")
        await wait_for(pilot, lambda: pilot.app.screen.state.hints_shown, what="a hint")
        await pilot.pause()

    app = zh_app(make_app, ZH_EXERCISE)
    assert snap_compare(app, terminal_size=(100, 30), run_before=run_exercise)
