"""Where lines of Chinese (and mixed) prose may break, for Rich's and Textual's wrapping.

Rich (and Textual's `Content`, which calls the same `rich._wrap.divide_line`) breaks lines
only at spaces: a run of Chinese has none, so it is one long "word" that either jumps to the
next line whole (a short line, then a long one) or is chopped anywhere, a closing "，" or
"。" starting the next line. Neither library has an option for it, so `divide_line` here is
a drop-in replacement that `install()` puts in both: besides at spaces, a line may break
before and after any wide (CJK) character, except that closing punctuation never starts a
line and opening punctuation never ends one (the kinsoku / 避头尾 rules). Text without wide
characters breaks exactly as Rich breaks it.

`join_soft_breaks` is the other half: Markdown turns a line break inside a paragraph into a
space, which is right between English words but wrong between two Chinese characters.
"""

from __future__ import annotations

import re
import unicodedata

from rich._wrap import divide_line as rich_divide_line
from rich.cells import cell_len, chop_cells

# Never at the start of a line: closing brackets and quotes, and the punctuation that
# follows what it ends (full-width and ASCII), the ellipsis and the dash (they come in pairs).
NO_START = frozenset("，。、；：？！）】》」』”’〕〉｝］〗〙〛…—％～·,.;:!?)]}%")
# Never at the end of a line: opening brackets and quotes.
NO_END = frozenset("（【《「『“‘〔〈｛［〖〘〚([{")


# A quick test for text with no wide character at all (`is_wide` is exact; this may only
# say yes too often): CJK and Hangul blocks, full-width forms and CJK punctuation.
_SPACELESS = re.compile(
    "[\u1100-\u115f\u2329\u232a\u25fd\u25fe\u2e80-\ua4cf\ua960-\ua97f\uac00-\ud7a3"
    "\uf900-\ufaff\ufe10-\ufe6f\uff00-\uff60\uffe0-\uffe6\U00016fe0-\U0001b2ff"
    "\U00020000-\U0003fffd]"
)


def is_wide(char: str) -> bool:
    """A character of a script without spaces, two cells wide: Chinese, kana, hangul,
    full-width punctuation. Not emoji (also two cells): those break as Rich breaks them."""
    return unicodedata.east_asian_width(char) in ("W", "F") and unicodedata.category(char) not in (
        "So",
        "Sk",  # emoji skin tones, which stay with their emoji
        "Cn",  # unassigned: nothing to break around
    )


def break_allowed(before: str, after: str) -> bool:
    """May a line end after `before` and the next begin with `after`? (Not at a space: the
    space stays with the word before it, as in Rich.)"""
    if after.isspace():
        return False
    if after in NO_START or before in NO_END:
        return False
    if before.isspace():
        return True
    return is_wide(before) or is_wide(after)


def pieces(text: str) -> list[tuple[int, str]]:
    """(start, piece): the text cut where a break is allowed; each piece keeps the spaces
    after it, as Rich's words do."""
    # Leading spaces go with the first piece, as in Rich.
    first = len(text) - len(text.lstrip())
    cuts = [0]
    cuts += [i for i in range(first + 1, len(text)) if break_allowed(text[i - 1], text[i])]
    cuts.append(len(text))
    return [(start, text[start:end]) for start, end in zip(cuts, cuts[1:]) if end > start]


def divide_line(text: str, width: int, fold: bool = True) -> list[int]:
    """Offsets at which to break `text` so that each line fits `width` cells: the same
    contract as `rich._wrap.divide_line`, with the breaks above."""
    if not _SPACELESS.search(text):
        # Most text (English, code, cell output): Rich's own, at C speed where it can.
        return rich_divide_line(text, width, fold)
    return divide_wide(text, width, fold)


def divide_wide(text: str, width: int, fold: bool = True) -> list[int]:
    """`divide_line` for any text, one character at a time (Python speed)."""
    breaks: list[int] = []
    offset = 0  # cells used on the current line
    for start, piece in pieces(text):
        length = cell_len(piece.rstrip())
        if width - offset >= length:
            offset += cell_len(piece)
            continue
        if length > width:
            # Wider than a whole line (a long identifier): chopped, or cropped if no fold.
            if not fold:
                if start:
                    breaks.append(start)
                offset = cell_len(piece)
                continue
            chopped = chop_cells(piece, width)
            for i, part in enumerate(chopped):
                if start and (i or offset):
                    breaks.append(start)
                start += len(part)
            offset = cell_len(chopped[-1])
        elif offset and start:
            breaks.append(start)
            offset = cell_len(piece)
    return breaks


# A line of Markdown that is part of a paragraph, not a fence, list item or heading.
_FENCE = re.compile(r"^\s*(```|~~~)")


def join_soft_breaks(markdown: str) -> str:
    """Markdown with a line break inside a paragraph removed where it falls between two wide
    characters or next to full-width punctuation, so that it shows as no space at all (a
    break between a Chinese and a Latin word still becomes a space, as the author's own
    spaces do). Fenced code is left as it is."""
    lines = markdown.split("\n")
    out: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
            out.append(line)
            continue
        previous = out[-1] if out else ""
        stripped = line.lstrip()
        if (
            not fenced
            and out
            and previous
            and stripped
            and not previous.endswith("  ")  # a hard break the author asked for
            and not _FENCE.match(previous)
            and _glued(previous[-1], stripped[0])
            and not _starts_block(stripped)
        ):
            out[-1] = previous + stripped
        else:
            out.append(line)
    return "\n".join(out)


def _glued(before: str, after: str) -> bool:
    """No space between these two: Chinese on both sides, or full-width punctuation on
    either (Chinese puts no space after "。" or before "，", whatever follows)."""
    return (
        (is_wide(before) and is_wide(after))
        or _wide_punctuation(before)
        or _wide_punctuation(after)
    )


def _wide_punctuation(char: str) -> bool:
    return is_wide(char) and unicodedata.category(char).startswith("P")


def _starts_block(line: str) -> bool:
    """A line that begins a new block (heading, list item, quote, table row), not a paragraph
    continuation. Wide first characters rule most of these out already; kept for safety."""
    return bool(re.match(r"([#>|]|[-*+] |\d+[.)] )", line))


_installed = False


def install() -> None:
    """Make Rich's `Text.wrap` and Textual's `Content` wrap with `divide_line` above. Both
    import the function by name, so the names in their modules are the ones replaced."""
    global _installed
    if _installed:
        return
    import rich.text
    import textual.content

    rich.text.divide_line = divide_line  # type: ignore[attr-defined]
    textual.content.divide_line = divide_line  # type: ignore[attr-defined]
    _installed = True
