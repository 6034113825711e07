"""The app's own words: every message in both languages, none left in English in zh mode,
and the language switched inside the app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from textual.pilot import Pilot

from autograd_tutor.core.results import MEMORY_ADVICE
from autograd_tutor.core.runner.client import deadlines
from autograd_tutor.ui import i18n, keys, render, state
from autograd_tutor.ui.screens.explorer import ExplorerScreen
from autograd_tutor.ui.screens.help import HelpScreen
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.widgets import graph_view

from .helpers import cells_done, lesson_screen, open_lesson, wait_for
from .test_snapshots import ready

UI = Path(i18n.__file__).parent
ZH_EXERCISE = Path(__file__).parent / "zh_fixtures" / "02-exercise.zh.md"
PO = UI / "locale" / "zh" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


@pytest.fixture(autouse=True)
def english_after() -> Iterator[None]:
    """The language is the process's: leave it as the other tests expect it."""
    yield
    i18n.set_language("en")


def ui_messages() -> set[str]:
    """Every msgid of the UI: `_()`, `ngettext()` and `N_()` calls (Babel's extractor, as
    `pybabel extract` finds them) and the keys' words, which keys.py keeps in English."""
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(UI), method_map=[("**.py", "python")], keywords=DEFAULT_KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    for where, table in keys.TABLES:
        found.add(where)
        for binding in table:
            found.add(binding.description)
            if binding.tooltip:
                found.add(binding.tooltip)
            if binding.group is not None:
                found.add(binding.group.description)
    return found


def po_entries() -> dict[str, str | tuple[str, ...]]:
    with PO.open("rb") as po_file:
        catalogue = read_po(po_file)
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string for m in catalogue if m.id}


def test_the_extractor_finds_the_messages() -> None:
    found = ui_messages()
    # One of each kind: a key's words, `_()`, `ngettext()`, `N_()`.
    assert {"Run", "not run yet", "{count} more warning not shown", "shipped lessons"} <= found
    assert len(found) > 150


def test_every_message_has_a_chinese_text() -> None:
    entries = po_entries()
    missing = sorted(m for m in ui_messages() if not entries.get(m))
    assert missing == [], "no zh text in messages.po"


def test_no_stale_entries() -> None:
    # `_(".")` and the like are msgids too; a .po entry the code no longer asks for is stale.
    stale = sorted(set(po_entries()) - ui_messages())
    assert stale == [], "in messages.po but not in the code"


def test_placeholders_are_kept() -> None:
    for msgid, text in po_entries().items():
        texts = text if isinstance(text, tuple) else (text,)
        for one in texts:
            assert sorted(PLACEHOLDER.findall(one)) == sorted(PLACEHOLDER.findall(msgid)), msgid


def test_core_words_shown_by_the_ui_are_in_the_catalogue() -> None:
    """The core knows no UI; the words of it that the UI shows are worded there."""
    i18n.set_language("zh")
    for words in (deadlines.STOPPED_ANSWERING, MEMORY_ADVICE):
        assert i18n._(words) != words
    # A check that could not run: the state's words for each way a run dies.
    source = Path(state.__file__).read_text(encoding="utf-8")
    assert 'f"the check could not run ({result.status})"' in source
    for status in render.DEAD:
        words = f"the check could not run ({status})"
        assert i18n._(words) != words, words
    # The graph's note after a restart: written by the state, worded by the graph view.
    assert f'"note": "{graph_view.FRESH}"' in Path(state.__file__).read_text(encoding="utf-8")


def test_switching_the_language() -> None:
    i18n.set_language("zh")
    assert i18n._("Run") == "运行"
    assert i18n.ngettext("{count} more warning not shown", "x", 3) == "另有 {count} 条警告未显示"
    i18n.set_language("en")
    assert i18n._("Run") == "Run"
    with pytest.raises(ValueError):
        i18n.set_language("fr")


# -- on screen ---------------------------------------------------------------------------

# English words of ours: each msgid cut at its placeholders, the pieces of two words or more
# (one word alone may be a name: "torch", "Python").
OURS = sorted(
    {
        piece.strip(" .:;,()")
        for message in ui_messages()
        for piece in PLACEHOLDER.split(message)
        if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2
    },
    key=len,
)


def screen_text(pilot: Pilot) -> str:
    """What the terminal shows, as plain text (the compositor's lines)."""
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def english_of_ours(text: str) -> list[str]:
    return [piece for piece in OURS if piece and piece in text]


@pytest.mark.anyio
@pytest.mark.slow  # a real worker runs the cells
async def test_chinese_screens_show_no_english_of_ours(make_app) -> None:
    app = make_app(ZH_EXERCISE, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen), what="the lesson")
        await pilot.press("down", "enter")  # the exercise as it is: its check fails
        await cells_done(pilot)
        await pilot.press("h")
        await pilot.pause()
        shown = screen_text(pilot)
        assert "尚未完成：y 应该等于 x * 2" in shown and "运行" in shown, shown
        assert "✗ 未完成：y 应该等于 x * 2" in shown, shown  # the check's own line
        assert english_of_ours(shown) == [], shown
        await pilot.press("v")  # the inspector: its title
        # the cells above the exercise ran first, so the inspector lists their tensors
        await wait_for(pilot, lambda: "张量（" in screen_text(pilot), what="the inspector")
        assert english_of_ours(screen_text(pilot)) == [], screen_text(pilot)
        await pilot.press("escape")
        await pilot.press("o")  # this lesson has no explorer: the screen says so
        await wait_for(pilot, lambda: isinstance(app.screen, ExplorerScreen), what="explorer")
        shown = screen_text(pilot)
        assert "学习率" in shown and "关闭" in shown, shown
        assert english_of_ours(shown) == [], shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen), what="the lesson")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        shown = screen_text(pilot)
        assert "显示所有按键" in shown
        assert english_of_ours(shown) == [], shown
        await pilot.press("escape", "l")
        await pilot.pause()
        shown = screen_text(pilot)
        assert "个单元格" in shown
        assert english_of_ours(shown) == [], shown


def test_the_english_rule_can_fail() -> None:
    assert english_of_ours("1/3 cells run · Not solved yet") != []


@pytest.mark.anyio
@pytest.mark.slow  # a real worker runs the cells
async def test_the_language_key_switches_app_and_lesson(make_app, data_dir) -> None:
    app = make_app(lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("down")
        assert screen.state.lesson.lang == "en"
        await pilot.press(keys.LANGUAGE)
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, LessonScreen) and app.screen is not screen,
            what="the lesson in Chinese",
        )
        switched = lesson_screen(pilot)
        assert switched.state.lesson.lang == "zh"
        assert switched.state.lesson.id == screen.state.lesson.id
        assert switched.state.cursor == 1
        await pilot.pause()
        assert "运行" in screen_text(pilot)
        assert app.progress.last is not None and app.progress.last.lang == "zh"
        await pilot.press(keys.LANGUAGE)
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, LessonScreen) and app.screen.state.lesson.lang == "en",
            what="the lesson in English",
        )
        await pilot.pause()
        assert "Run" in screen_text(pilot) and "运行" not in screen_text(pilot)


@pytest.mark.anyio
@pytest.mark.slow  # a real worker runs the cells
async def test_the_palette_switches_the_language(make_app) -> None:
    app = make_app(lang="en", stable_status=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)  # "worker: ready" on the top line, in English
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"Language")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.lang == "zh", what="the switch")
        await pilot.pause()
        assert i18n.language() == "zh"
        shown = screen_text(pilot)
        assert "个单元格" in shown and "? 按键" in shown, shown  # the list and its footer
        assert "worker:" not in shown, shown  # the top line too


@pytest.mark.anyio
@pytest.mark.slow  # starts the app
async def test_the_locale_picks_the_app_language(make_app, monkeypatch) -> None:
    """No --lang and no progress yet: a Chinese locale makes the app's words Chinese."""
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    app = make_app(lang=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.lang == "zh" and i18n.language() == "zh"
        assert "个单元格" in screen_text(pilot)
