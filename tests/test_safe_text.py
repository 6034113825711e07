"""The one sanitiser (core/safe_text.py): pure functions and the CLI's writer."""

from __future__ import annotations

import io

from autograd_tutor.core.safe_text import LABEL_LIMIT, SafeWriter, clean, one_line, visible
from tests.hostile.texts import ALL, RAW, SURROGATE, raw_characters


def test_visible_escapes_every_control_but_tab_and_newline() -> None:
    assert visible("a\tb\nc") == "a\tb\nc"
    assert visible("\x1b]0;t\x07") == "\\x1b]0;t\\x07"
    assert visible("c1\x9b del\x7f bidi\u202e") == "c1\\x9b del\\x7f bidi\\u202e"
    assert raw_characters(visible(ALL + SURROGATE)) == []


def test_lone_surrogates_become_encodable() -> None:
    shown = visible("a" + SURROGATE + "b")
    assert shown == "a\\ud800b"
    shown.encode("utf-8")  # would raise UnicodeEncodeError with the raw surrogate


def test_clean_applies_carriage_returns_then_escapes() -> None:
    assert clean("10%\r50%\r\x1b[31m100%\ndone\r\n") == "\\x1b[31m100%\ndone\n"


def test_one_line_folds_newlines_and_bounds_length() -> None:
    assert one_line("a\nb\tc") == "a\\x0ab\\x09c"
    long = one_line("x" * 1000)
    assert len(long) == LABEL_LIMIT and long.endswith("…")
    assert one_line(None) == "None"


def test_safe_writer_never_passes_a_raw_control() -> None:
    target = io.StringIO()
    writer = SafeWriter(target)
    print(ALL, SURROGATE, "\r", file=writer)
    written = target.getvalue()
    assert raw_characters(written) == [] and "\r" not in written
    assert written.endswith("\n")  # newlines are kept
    assert all(c not in written for c in RAW)
def test_json_escaped_stays_json_and_inert() -> None:
    import json

    from autograd_tutor.core.safe_text import json_escaped

    record = {"out": ALL + SURROGATE, "zh": "中文"}
    text = json_escaped(json.dumps(record, ensure_ascii=False))
    assert raw_characters(text) == [] and "中文" in text
    assert json.loads(text) == record
