"""Line breaks for Chinese prose: between characters, with the kinsoku rules, and English
text broken exactly as Rich breaks it."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from rich._wrap import divide_line as rich_divide_line
from rich.cells import cell_len

from autograd_tutor.core.lesson import Prose
from autograd_tutor.core.parser import parse_file
from autograd_tutor.ui.linebreak import (
    NO_END,
    NO_START,
    divide_line,
    divide_wide,
    install,
    join_soft_breaks,
)

LESSONS = Path(__file__).resolve().parents[2] / "lessons"


def lines(text: str, width: int) -> list[str]:
    offsets = [0, *divide_line(text, width), len(text)]
    return [text[a:b] for a, b in zip(offsets, offsets[1:])]


def check_rules(text: str, width: int) -> list[str]:
    """The lines of `text` at `width`, asserting the rules on each."""
    shown = lines(text, width)
    assert "".join(shown) == text
    for i, line in enumerate(shown):
        assert cell_len(line.rstrip()) <= width, (width, line)
        if i:
            assert line[0] not in NO_START, f"a line starts with {line[0]!r}: {shown}"
        if i < len(shown) - 1:
            assert line.rstrip()[-1] not in NO_END, f"a line ends with {line[-1]!r}: {shown}"
    return shown


ENGLISH = [
    "The quick brown fox jumps over the lazy dog, twice: then it rests.",
    "requires_grad=True tells PyTorch to record every operation on the tensor.",
    "  leading spaces and a_very_long_identifier_that_does_not_fit_anywhere at all",
    "",
]


@pytest.mark.parametrize("text", ENGLISH)
@pytest.mark.parametrize("width", [5, 12, 20, 40, 80])
@pytest.mark.parametrize("fold", [True, False])
def test_english_breaks_as_rich_does(text: str, width: int, fold: bool) -> None:
    # Both the quick path (no wide character: Rich's own) and the general one.
    assert divide_line(text, width, fold) == rich_divide_line(text, width, fold)
    assert divide_wide(text, width, fold) == rich_divide_line(text, width, fold)


def test_breaks_between_chinese_characters() -> None:
    assert lines("一二三四五六", 4) == ["一二", "三四", "五六"]


def test_closing_punctuation_never_starts_a_line() -> None:
    # Without the rule the second line would start with "，".
    assert lines("一二三，四五", 6) == ["一二", "三，四", "五"]
    assert lines("一二三。", 6) == ["一二", "三。"]
    assert lines("他说“好”。然后", 8)[1][0] not in NO_START


def test_opening_punctuation_never_ends_a_line() -> None:
    # Without the rule the first line would end with "（" (8 cells fit).
    assert lines("一二三（四）", 8) == ["一二三", "（四）"]
    assert lines("一二三“四”", 8) == ["一二三", "“四”"]


def test_mixed_chinese_and_latin() -> None:
    # The space the author wrote stays (at the end of a line, where Rich strips it).
    shown = check_rules("它为 True 时，PyTorch 会记录所有用到它的运算", 16)
    assert shown[0] == "它为 True 时，"
    assert shown[1].startswith("PyTorch")
    # A Latin word is never cut while it fits a line.
    for line in check_rules("张量的 requires_grad 属性决定是否记录梯度", 14):
        assert "requires_grad" in line or "requires" not in line


def test_a_word_wider_than_the_line_is_folded_or_cropped() -> None:
    assert lines("一abcdefghij", 4) == ["一", "abcd", "efgh", "ij"]
    assert lines("一abcdefghij", 4)[1:] == ["abcd", "efgh", "ij"]
    assert divide_line("一abcdefghij", 4, fold=False) == [1]


def test_shipped_chinese_prose_at_every_width() -> None:
    """Lesson 1's first paragraph (the issue's example) and the rest of the Chinese prose:
    the rules hold, and no line but a paragraph's last is short (the old symptom: a short
    line before a Latin word, then a long one)."""
    for path in sorted(LESSONS.glob("*.zh.md"))[:4]:
        lesson = parse_file(path)
        for block in lesson.blocks:
            if not isinstance(block, Prose):
                continue
            for paragraph in join_soft_breaks(block.text).split("\n\n"):
                paragraph = paragraph.replace("\n", " ")  # as Markdown shows a soft break
                for width in (30, 60, 76, 116):
                    shown = check_rules(paragraph, width)
                    for line, after in zip(shown, shown[1:]):
                        # Full lines: what starts the next line did not fit on this one.
                        moved = cell_len(first_unit(after).rstrip())
                        assert cell_len(line) + moved > width, (width, shown)


def first_unit(line: str) -> str:
    """What may not be split at the start of a line: up to a space, or up to where a wide
    character begins or ends, the kinsoku rules' punctuation kept with its neighbour."""
    wide = unicodedata.east_asian_width
    i = 1
    while i < len(line):
        before, char = line[i - 1], line[i]
        if char == " " or (
            (wide(char) in "WF" or wide(before) in "WF")
            and char not in NO_START
            and before not in NO_END
        ):
            break
        i += 1
    return line[:i]


def test_join_soft_breaks() -> None:
    assert join_soft_breaks("一二\n三四") == "一二三四"
    assert join_soft_breaks("一二，\n三四") == "一二，三四"
    # Next to a Latin word the break stays: Markdown shows it as a space.
    assert join_soft_breaks("它为\nTrue 时") == "它为\nTrue 时"
    assert join_soft_breaks("English\nwords") == "English\nwords"
    # No space after full-width punctuation, nor before it.
    assert join_soft_breaks("写进 `.grad`。\n`torch` 算出") == "写进 `.grad`。`torch` 算出"
    assert join_soft_breaks("用 `x`\n，然后") == "用 `x`，然后"
    # Blocks, fences and hard breaks are left alone.
    assert join_soft_breaks("一二\n\n三四") == "一二\n\n三四"
    assert join_soft_breaks("```\n一二\n三四\n```") == "```\n一二\n三四\n```"
    assert join_soft_breaks("一二  \n三四") == "一二  \n三四"
    assert join_soft_breaks("一二\n- 三四") == "一二\n- 三四"


def test_install_reaches_rich_and_textual() -> None:
    from rich.text import Text
    from textual.content import Content

    install()
    assert [str(line) for line in Text("一二三，四五").wrap(_console(), 6)] == [
        "一二",
        "三，四",
        "五",
    ]
    wrapped = Content("一二三，四五").wrap(6)
    assert [line.plain for line in wrapped] == ["一二", "三，四", "五"]


def _console():
    from rich.console import Console

    return Console(width=80)


def test_emoji_break_as_rich_breaks_them() -> None:
    text = "💡 Hint 1 of 2 ⏳running📈 Tip: press o for the explorer"
    for width in (6, 10, 20):
        assert divide_wide(text, width) == rich_divide_line(text, width)


def test_the_quick_path_sees_every_wide_character() -> None:
    """`_SPACELESS` may say yes too often, never no wrongly: every wide character up to
    the CJK extensions' planes matches it."""
    from autograd_tutor.ui.linebreak import _SPACELESS, is_wide

    for code in range(0x40000):
        char = chr(code)
        if is_wide(char):
            assert _SPACELESS.match(char), hex(code)
