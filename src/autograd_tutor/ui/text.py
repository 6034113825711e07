"""Make text printed by a cell safe to show: no escape sequence ever reaches the terminal.

Everything a cell prints is rendered as rich `Text` (never markup). Control characters are
shown as visible `\\x1b`-style escapes, except newline and tab; a carriage return keeps what
a terminal would show (the text after the last `\\r` on a line), so progress bars look right.
"""

from __future__ import annotations

import re

# C0 controls except \t and \n, DEL, C1 controls, and the Unicode bidi overrides that can
# make text read differently from what it is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """`text` with carriage returns applied and every other control character escaped."""
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        text = "\n".join(
            line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r")
            for line in text.split("\n")
        )
    return _CONTROL.sub(_visible, text)
