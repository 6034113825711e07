"""Terminal hygiene, locale and start-up choices: pure functions, no app."""

from __future__ import annotations

from pathlib import Path

from autograd_tutor.core.progress import Progress
from autograd_tutor.core.safe_text import clean
from autograd_tutor.ui.startup import locale_lang, plan

from .helpers import BASICS, FIXTURES, fixture_key


def test_clean_escapes_control_characters() -> None:
    assert clean("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert clean("a\tb\nc") == "a\tb\nc"
    assert clean("bell\x07 del\x7f c1\x9b") == "bell\\x07 del\\x7f c1\\x9b"
    assert clean("bidi\u202e") == "bidi\\u202e"


def test_clean_applies_carriage_returns() -> None:
    assert clean("10%\r50%\r100%\ndone\r\n") == "100%\ndone\n"
    assert clean("a\r") == "a"


def test_locale_lang() -> None:
    assert locale_lang({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert locale_lang({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}) == "zh"
    assert locale_lang({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}) == "en"
    assert locale_lang({"LANG": "fr_FR.UTF-8"}) == "en"
    assert locale_lang({}) == "en"


def test_plan_folder_file_and_shipped(data_dir: Path) -> None:
    progress = Progress.load()
    folder = plan(FIXTURES, None, progress, env={"LANG": "zh_CN.UTF-8"})
    assert folder.lang == "zh" and folder.open_at is None
    assert [e.id for e in folder.entries][:2] == ["basics", "exercise"]
    one = plan(BASICS, "en", progress)
    assert one.open_at == (0, 0)
    shipped = plan(None, "en", progress)
    assert shipped.source_name == "shipped lessons"
    progress.set_last(fixture_key("exercise"), 2, "en")
    resumed = plan(FIXTURES, None, progress, env={"LANG": "zh_CN.UTF-8"})
    assert resumed.lang == "en" and resumed.open_at == (1, 2)
    assert plan(FIXTURES, "zh", progress).lang == "zh"  # --lang wins over the saved one
