"""An author's own error catalogue (`errors/` beside the lesson, docs/authoring.md) explains
errors in the app too, not only in `run` and `check`: the app renders what the core found."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import cell_text, cells_done, open_lesson

pytestmark = pytest.mark.anyio

LESSON = """\
---
title: Frobnication
---
A cell that fails with an error only this lesson's catalogue knows.

```python tags=["raises-exception"]
raise ValueError("the widget is frobnicated")
```
"""

ENTRY = """\
id: frobnicated-widget
type: ValueError
match: "the (?P<thing>\\\\w+) is frobnicated"
title: "The {thing} was frobnicated (the author's own entry)"
what: Something frobnicated the {thing}.
why: Widgets cannot be frobnicated twice.
fix: Unfrobnicate the {thing} first.
snippet: |
  widget.unfrobnicate()
"""


@pytest.fixture
def authored(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons"
    (folder / "errors" / "en").mkdir(parents=True)
    (folder / "errors" / "en" / "frobnicated-widget.yaml").write_text(ENTRY, encoding="utf-8")
    (folder / "01-frob.en.md").write_text(LESSON, encoding="utf-8")
    return folder


async def test_the_authors_catalogue_explains_the_error_under_the_cell(
    make_app, authored: Path
) -> None:
    app = make_app(authored)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("enter")
        await cells_done(pilot)
        text = cell_text(pilot, 0)
        assert "ValueError: the widget is frobnicated" in text
        assert "💡 The widget was frobnicated (the author's own entry)" in text
        assert "What happened: Something frobnicated the widget." in text
        assert "Fix: Unfrobnicate the widget first." in text
        assert "widget.unfrobnicate()" in text
