"""The app's own words in the learner's language: gettext catalogues (.po) read with Babel.

Every message the UI shows is written in English in the code, wrapped in `_()` (or
`ngettext()` for counts), which is what `pybabel extract` and translators' tools expect.
The Chinese texts live in `ui/locale/zh/LC_MESSAGES/messages.po`, read at import time with
Babel (no compiled .mo file to forget). The language can change while the app runs
(`set_language`), so `_()` looks it up on every call; screens re-render on a switch.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("en", "zh")
_LOCALE_DIR = Path(__file__).parent / "locale"
_current = "en"


@cache
def catalogue(lang: str) -> dict[str, str | tuple[str, ...]]:
    """msgid -> translation for `lang` ('en' is the identity: an empty catalogue)."""
    if lang == "en":
        return {}
    path = _LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        read = read_po(po_file, locale=lang if lang != "zh" else "zh_Hans")
    found: dict[str, str | tuple[str, ...]] = {}
    for message in read:
        if not message.id or not message.string:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        found[key] = message.string
    return found


def set_language(lang: str) -> None:
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}")
    _current = lang


def language() -> str:
    return _current


def N_(message: str) -> str:  # noqa: N802 - the gettext convention's name
    """Marks `message` for extraction where it is defined; `_()` translates it where shown."""
    return message


def _(message: str) -> str:
    """`message` (English) in the current language; English where no translation exists."""
    found = catalogue(_current).get(message)
    return found if isinstance(found, str) else message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for `count` (Chinese has one form)."""
    found = catalogue(_current).get(singular)
    if isinstance(found, tuple):
        return found[0] if len(found) == 1 or count == 1 else found[1]
    if isinstance(found, str):
        return found
    return singular if count == 1 else plural
