"""The lesson parser: good files, and every kind of bad file with the line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_tutor.core.lesson import LessonError
from autograd_tutor.core.parser import name_parts, parse_file

GOOD = """\
---
title: Tensors
summary: first steps
---
# Tensors

Some prose.

```python
import torch
x = torch.ones(2)
```

```text
not a cell
```

```python tags=["raises-exception"]
1 / 0
```

```{code-cell} python
:tags: [skip-execution]
while True: pass
```

```{code-cell} python
---
tags: [raises-exception]
---
raise ValueError
```

```python exercise="double"
y = x
```

```hint
Multiply by two.
```

```hint
`y = 2 * x`
```

```python check="double"
assert torch.equal(y, 2 * x)
```

```python solution="double"
y = 2 * x
```
"""


def write(tmp_path: Path, text: str | bytes, name: str = "01-tensors.en.md") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_good_lesson(tmp_path: Path) -> None:
    lesson = parse_file(write(tmp_path, GOOD))
    assert (lesson.title, lesson.id, lesson.lang, lesson.order) == ("Tensors", "tensors", "en", 1)
    assert lesson.summary == "first steps"
    cells = lesson.cells
    assert [c.index for c in cells] == list(range(7))
    assert cells[0].line == 10 and cells[0].source == "import torch\nx = torch.ones(2)"
    assert cells[1].raises and cells[1].line == 19
    assert cells[2].skipped and cells[2].source == "while True: pass" and cells[2].line == 24
    assert cells[3].raises and cells[3].line == 31
    (exercise,) = lesson.exercises
    assert exercise.name == "double"
    assert exercise.starter.source == "y = x"
    assert exercise.check.role == "check" and exercise.solution is not None
    assert [h.text for h in exercise.hints] == ["Multiply by two.", "`y = 2 * x`"]


def test_code_cell_lines_point_into_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    lines = path.read_text().splitlines()
    for cell in parse_file(path).cells:
        assert lines[cell.line - 1] == cell.source.splitlines()[0]


def test_name_parts() -> None:
    assert name_parts(Path("03-leaf-detach.zh.md")) == (3, "leaf-detach", "zh")
    assert name_parts(Path("intro.md")) == (None, "intro", None)


def test_front_matter_overrides_file_name(tmp_path: Path) -> None:
    text = "---\ntitle: X\nid: other\norder: 7\nlang: zh\n---\n"
    lesson = parse_file(write(tmp_path, text))
    assert (lesson.id, lesson.order, lesson.lang) == ("other", 7, "zh")


def test_front_matter_is_optional(tmp_path: Path) -> None:
    # Was an error ("missing front matter") until issue 14: a tutorial as people have it.
    lesson = parse_file(write(tmp_path, "Intro.\n\n# Hi there\n\n```python\nx = 1\n```\n"))
    assert (lesson.title, lesson.cells[0].line) == ("Hi there", 6)
    nameless = tmp_path / "02-my_tutorial.md"
    nameless.write_text("```python\nx = 1\n```\n")
    assert parse_file(nameless).title == "my tutorial"


def test_jupytext_header_is_accepted(tmp_path: Path) -> None:
    text = (
        "---\njupyter:\n  jupytext:\n    text_representation:\n      extension: .md\n"
        "  kernelspec:\n    name: python3\n---\n\n# Autograd\n\n```python\nx = 1\n```\n"
    )
    lesson = parse_file(write(tmp_path, text))
    assert (lesson.title, lesson.cells[0].line) == ("Autograd", 13)


BAD = [
    ("empty", "", 1, "empty file"),
    ("blank", "\n  \n", 1, "empty file"),
    ("unclosed front matter", "---\ntitle: x\n# Hi\n", 1, "front matter is not closed"),
    ("invalid yaml", "---\ntitle: x\nsummary: [a\nother: 1\n---\n", 4, "invalid YAML"),
    ("not a mapping", "---\n- a\n- b\n---\n", 2, "must be a mapping"),
    ("no title", "---\nsummary: x\n---\nhello\n", 2, "title"),
    ("empty title", "---\ntitle: ''\n---\n", 2, "title"),
    ("unclosed fence", "---\ntitle: x\n---\ntext\n\n```python\nx = 1\n", 6, "never closed"),
    ("bad metadata", "---\ntitle: x\n---\n```python tags=[raises]\n1\n```\n", 4, "not JSON"),
    ("bad metadata key", "---\ntitle: x\n---\n\n```python tags\n1\n```\n", 5, "key=value"),
    ("tags not list", '---\ntitle: x\n---\n```python tags="a"\n1\n```\n', 4, "list of strings"),
    ("hint first", "---\ntitle: x\n---\n```hint\nh\n```\n", 4, "must follow an exercise"),
    ("check alone", '---\ntitle: x\n---\n```python check="e"\n1\n```\n', 4, "unknown exercise"),
    ("no check", '---\ntitle: x\n---\n```python exercise="e"\n1\n```\n', 4, "exactly one check"),
    (
        "myst bad",
        "---\ntitle: x\n---\n```{code-cell} python\n:tags: [a\n1\n```\n",
        5,
        "code-cell options",
    ),
    ("bad order", "---\ntitle: x\norder: first\n---\n", 2, "order"),
]


@pytest.mark.parametrize(("case", "text", "line", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_say_where(tmp_path: Path, case: str, text: str, line: int, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(LessonError) as caught:
        parse_file(path)
    assert caught.value.line == line, str(caught.value)
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b"---\ntitle: x\n---\ncaf\xe9\n")
    with pytest.raises(LessonError) as caught:
        parse_file(path)
    assert caught.value.line == 4 and "UTF-8" in caught.value.message


def test_binary(tmp_path: Path) -> None:
    path = write(tmp_path, b"---\ntitle: x\n---\n\x89PNG\x00\x00")
    with pytest.raises(LessonError) as caught:
        parse_file(path)
    assert caught.value.line == 4 and "binary" in caught.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LessonError) as caught:
        parse_file(tmp_path / "nope.md")
    assert caught.value.line == 1 and "cannot read" in caught.value.message


def test_fence_inside_list_is_prose(tmp_path: Path) -> None:
    text = "---\ntitle: x\n---\n- item\n\n  ```python\n  x = 1\n  ```\n"
    assert parse_file(write(tmp_path, text)).cells == []


def test_a_title_from_a_heading_reads_without_its_markup(tmp_path: Path) -> None:
    # A converted sphinx-gallery tutorial's reST title keeps its ``literal`` marks.
    path = tmp_path / "tutorial.md"
    path.write_text("Intro to ``torch.autograd`` and *grads*\n=====\n\ntext\n", encoding="utf-8")
    assert parse_file(path).title == "Intro to torch.autograd and grads"
