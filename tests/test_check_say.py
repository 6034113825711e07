"""autograd_tutor.check: a check cell's message in the language of the lesson it runs from."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_tutor.check import _file_language, say

CHECK = 'from autograd_tutor.check import say\nmessage = say(en="in English", zh="中文")\n'


def run_as(filename: str) -> str:
    namespace: dict[str, object] = {}
    exec(compile(CHECK, filename, "exec"), namespace)
    return str(namespace["message"])


def test_the_lesson_suffix_picks_the_language(tmp_path: Path) -> None:
    assert run_as(str(tmp_path / "01-tensors.zh.md")) == "中文"
    assert run_as(str(tmp_path / "01-tensors.en.md")) == "in English"


def test_front_matter_lang_wins_over_the_suffix(tmp_path: Path) -> None:
    _file_language.cache_clear()
    lesson = tmp_path / "mine.md"
    lesson.write_text("---\ntitle: 我的课\nlang: zh\n---\n", encoding="utf-8")
    assert run_as(str(lesson)) == "中文"


def test_outside_a_lesson_the_environment_then_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOGRAD_TUTOR_LANG", raising=False)
    assert run_as("<ipython-input-1>") == "in English"
    monkeypatch.setenv("AUTOGRAD_TUTOR_LANG", "zh")
    assert run_as("<ipython-input-1>") == "中文"


def test_a_language_without_a_message_gets_english(tmp_path: Path) -> None:
    assert say(en="in English") == "in English"
    namespace: dict[str, object] = {}
    exec(
        compile(
            'from autograd_tutor.check import say\nm = say(en="e")\n',
            str(tmp_path / "a.zh.md"),
            "exec",
        ),
        namespace,
    )
    assert namespace["m"] == "e"
