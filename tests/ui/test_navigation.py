"""Lesson list, moving around, help, palette, themes, languages, sizes: the app's frame."""

from __future__ import annotations

import json

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList

from autograd_tutor.ui import keys
from autograd_tutor.ui.screens.help import HelpScreen
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.lessons import LessonListScreen

from .helpers import cells_done, fixture_key, lesson_screen, open_lesson, plain, wait_for

# Slow lane (every key and palette action with the real worker): CI runs it; `pytest -m "not slow"` leaves it out.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def list_texts(app) -> list[str]:
    listing = app.screen.query_one(OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def test_list_shows_lessons_progress_and_broken_files(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, LessonListScreen)
        texts = list_texts(app)
        assert "Fixture basics" in texts[0] and "○" in texts[0]
        assert "0/1 exercises solved" in texts[1]
        broken = [t for t in texts if "broken" in t]
        assert len(broken) == 1 and "03-broken.en.md:2: front matter needs a `title`" in broken[0]
        await open_lesson(pilot, 1)
        await pilot.press("enter")
        await cells_done(pilot)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        texts = list_texts(app)
        assert texts[0].startswith("●") and "1/6 cells run" in texts[0]


async def test_sixteen_shipped_lessons_are_two_lines_each_at_80x24(make_app) -> None:
    from rich.cells import cell_len

    from autograd_tutor.core.library import shipped_lessons

    app = make_app(shipped_lessons())
    async with app.run_test(size=(170, 30)) as pilot:
        await pilot.pause()
        words = "cells run · ☆ 0/2 exercises solved · 0/2 predictions (0 right)"
        assert words in list_texts(app)[0]  # room for words
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: "exercises" not in list_texts(app)[0], 5, "a refill")
        texts = list_texts(app)
        assert len(texts) == len(app.lessons) >= 16  # the curriculum grows; every lesson listed
        listing = app.screen.query_one(OptionList)
        room = listing.scrollable_content_region.width - 2  # the options' own padding
        for number, (text, lesson) in enumerate(zip(texts, app.lessons), start=1):
            title, summary = text.split("\n")
            assert all(cell_len(line) <= room for line in (title, summary)), text
            assert title.startswith(f"○ {number:>2}. {lesson.title[:20]}")
            assert f" run · ☆ 0/{len(lesson.exercises)} · 🔮 0/{len(lesson.predictions)}" in title
            assert summary.strip() and lesson.summary.startswith(summary.strip().rstrip("…"))
        # The lesson under the cursor is in view, with its progress, at the bottom too.
        await pilot.press("end")
        await pilot.pause()
        assert listing.highlighted == len(app.lessons) - 1
        assert listing.scroll_offset.y > 0


async def test_cell_moves_and_lesson_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("down", "j", "down")
        assert screen.state.cursor == 3
        assert screen.views[3].has_class("-current")
        await pilot.press("up", "k")
        assert screen.state.cursor == 1
        await pilot.press("up", "up", "up")  # stops at the first cell
        assert screen.state.cursor == 0
        await pilot.press("n")
        await pilot.pause()
        assert lesson_screen(pilot).state.lesson.id == "exercise"
        await pilot.press("n", "n")  # the last lesson: stays
        await pilot.pause()
        assert lesson_screen(pilot).state.lesson.id == "plot"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)


async def test_help_overlay_lists_every_key(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = plain(app.screen.query_one("#help-table"))
        for binding in keys.LESSON:
            assert binding.tooltip in table
        await pilot.press("escape")
        assert isinstance(app.screen, LessonScreen)


async def test_every_action_is_in_the_command_palette(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        titles = [c.title for c in app.get_system_commands(screen)]
        for binding in [*keys.APP, *keys.LESSON]:
            if binding.action != "command_palette":
                assert any(binding.tooltip in t for t in titles), binding
        assert "Reset progress" in titles and "Light theme" in titles
        await pilot.press("e")  # while editing, leaving the editor is a command too
        leave = [c for c in app.get_system_commands(screen) if "Leave the editor" in c.title]
        assert len(leave) == 1
        await leave[0].callback()
        assert screen.views[0].editor is None
        # Run an action through the palette itself: "Run the whole lesson".
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        await pilot.press(*"run the whole lesson")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen), what="the lesson")
        await wait_for(pilot, lambda: screen.state.cells[2].result is not None, what="run all")
        await cells_done(pilot)


async def test_theme_toggle_dark_and_light(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        dark = app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark is not dark
        await pilot.press("t")
        assert app.current_theme.dark is dark


async def test_small_terminal_and_resize(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(40, 12)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("enter", "e")
        await cells_done(pilot)
        await pilot.press("escape", "question_mark")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.resize_terminal(30, 8)
        await pilot.pause()
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


async def test_chinese_lessons(make_app) -> None:
    app = make_app(lang="zh")
    async with app.run_test(size=(100, 30)) as pilot:
        assert "基础(测试用)" in list_texts(app)[0]
        assert "Fixture exercise" in list_texts(app)[1]  # no zh version: English
        screen = await open_lesson(pilot, 1)
        assert screen.state.lesson.lang == "zh"


async def test_resume_where_the_learner_left_off(make_app, data_dir) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 2)
        await pilot.press("down", "down")
        assert screen.state.cursor == 2
        await pilot.press("q")
    saved = json.loads((data_dir / "progress.json").read_text())
    assert saved["last"] == {"lesson": fixture_key("exercise"), "cell": 2, "lang": "en"}
    again = make_app(lang=None)
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(again.screen, LessonScreen), what="the resumed lesson"
        )
        assert lesson_screen(pilot).state.lesson.id == "exercise"
        assert lesson_screen(pilot).state.cursor == 2


async def test_corrupt_progress_is_set_aside_with_a_warning(make_app, data_dir) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "progress.json").write_text("{not json")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("corrupt" in m for m in messages)
        await open_lesson(pilot, 1)
    assert list(data_dir.glob("progress.json.corrupt-*"))
    assert json.loads((data_dir / "progress.json").read_text())["last"]["lesson"] == fixture_key(
        "basics"
    )


async def test_reset_progress_from_the_palette(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("l")
        assert app.progress.seen(fixture_key("basics"))
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Reset progress"
        )
        command.callback()
        await pilot.pause()
        assert not app.progress.seen(fixture_key("basics"))
        assert "○" in list_texts(app)[0]


async def test_quit_key_exits(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_unwritable_progress_warns_and_the_app_works(make_app, data_dir) -> None:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.write_text("a file where the data folder should be")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("enter")
        await cells_done(pilot)
        messages = [n.message for n in app._notifications]
        assert any("cannot be saved" in m for m in messages)
        assert app.progress.seen(fixture_key("basics"))
