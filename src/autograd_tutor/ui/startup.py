"""Before the app starts: the language, the lessons, and where to begin (no Textual here)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from autograd_tutor.core.lesson import Lesson
from autograd_tutor.core.library import Entry, load, shipped_lessons
from autograd_tutor.core.progress import Progress, lesson_key
from autograd_tutor.ui.i18n import N_


def locale_lang(env: Mapping[str, str] | None = None) -> str:
    """zh when the locale says Chinese, else en. LC_ALL overrides LANG, as in POSIX."""
    env = os.environ if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


@dataclass
class Start:
    entries: list[Entry]
    lang: str
    source_name: str
    # (index into the picked lessons, cell index) to open at once, or None for the list.
    open_at: tuple[int, int] | None


def picked(entries: list[Entry], lang: str) -> list[Lesson]:
    return [lesson for entry in entries if (lesson := entry.pick(lang)) is not None]


def plan(
    path: Path | None, lang: str | None, progress: Progress, env: Mapping[str, str] | None = None
) -> Start:
    """What to open: PATH (folder or file) or the shipped lessons, resumed where left off."""
    last = progress.last
    lang = lang or (last.lang if last else None) or locale_lang(env)
    source = path if path is not None else shipped_lessons()
    entries = load([source])
    lessons = picked(entries, lang)
    open_at = None
    if last is not None:
        found = next(
            (i for i, lesson in enumerate(lessons) if lesson_key(lesson) == last.lesson), None
        )
        if found is not None:
            open_at = (found, last.cell)
    if open_at is None and path is not None and path.is_file() and lessons:
        open_at = (0, 0)  # one lesson file: open it, there is nothing to choose from
    shipped = N_("shipped lessons")  # the list's top line words it in the learner's language
    return Start(entries, lang, str(source) if path is not None else shipped, open_at)
