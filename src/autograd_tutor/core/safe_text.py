"""Text from a cell, a lesson file or a notebook made safe to show in a terminal.

Every string that did not come from our own code is hostile: a cell can print an OSC 52
sequence (the terminal's clipboard), OSC 8 (links), OSC 0 (the window title) or cursor
movements; a variable or exception class can be *named* with them; a lesson file or a
notebook's saved output can hold them; a `__repr__` can return a lone surrogate that no
terminal encoding can write. This module is the one place that makes such text visible and
inert. It is used by `run` and `check` (for everything they print), by the app (every
widget that draws a string it did not write itself) and so by `serve`, which shows the app.

* C0 controls (but tab and newline), DEL, C1 controls (`\\x9b` is a CSI on its own in some
  terminals) and the bidi overrides are shown as `\\x1b`-style escapes;
* lone surrogates are shown as `\\udXXX`, so the text always encodes as UTF-8;
* `clean` applies carriage returns the way a terminal would show them (progress bars), and
  `one_line` also folds newlines and bounds the length, for labels, names and titles.

Rich markup is a separate matter: the app draws hostile text as `Text`, never as markup;
where Textual reads a string as markup (a border title), `ui/text.py` escapes it after this.
Standard library only.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

# C0 controls except \t and \n, DEL, C1 controls, the Unicode bidi overrides and isolates
# that make text read differently from what it is, and lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# The same without newline's neighbours: a label shows "\n" visibly too.
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

LABEL_LIMIT = 200  # a name or title longer than this is cut, with an ellipsis


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character (but tab and newline) shown as an escape."""
    return _UNSAFE.sub(_visible, text)


def clean(text: str) -> str:
    """`text` as a terminal would leave it after carriage returns (the text after a line's
    last `\\r`, so progress bars look right), every other control character made visible."""
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        text = "\n".join(
            line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r")
            for line in text.split("\n")
        )
    return visible(text)


def json_escaped(text: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`, which escapes only C0 controls)
    with the other unsafe characters as JSON's own `\\uXXXX` escapes: still valid JSON, still
    the same strings once parsed, and nothing left that a terminal would obey."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def one_line(text: object, limit: int = LABEL_LIMIT) -> str:
    """A name, title or label: one line (newlines and tabs shown as escapes), controls
    visible, at most `limit` characters (cut with an ellipsis)."""
    shown = _UNSAFE_LINE.sub(_visible, str(text))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class SafeWriter(io.TextIOBase):
    """A text stream that shows control characters visibly before they reach `target`.

    The CLI wraps its stdout and stderr in one, so nothing `run` or `check` prints (a cell's
    output, an error message, a lesson's title, a path) can drive the terminal, whatever
    code forgot to clean it first. Surrogates can no longer fail the encoding either.
    """

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self._target = target

    def write(self, text: str) -> int:
        self._target.write(visible(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return self._target.isatty()

    def fileno(self) -> int:
        return self._target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", "utf-8") or "utf-8"

    def writable(self) -> bool:
        return True
