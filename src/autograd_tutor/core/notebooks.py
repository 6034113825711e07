"""Notebooks and scripts as lessons: `.ipynb`, and `.py` in jupytext's percent and light
formats or sphinx-gallery's.

jupytext converts the file to its Markdown, which `parser.parse_text` reads as it reads any
lesson (one parser, one set of rules); each code cell is then placed back where its author
finds it: a `.py` cell gets its lines in the file, so tracebacks, warnings and `check`
point into the script with no further mapping; a `.ipynb` cell keeps the Markdown's lines,
shown as `cell N:L` (`NotebookPlaces`), because the JSON file's lines mean nothing to the
author.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import jupytext
from markdown_it import MarkdownIt
from markdown_it.token import Token
from nbformat import NotebookNode

from autograd_tutor.core.lesson import (
    Block,
    CodeCell,
    Lesson,
    LessonError,
    NotebookPlaces,
    Prose,
)
from autograd_tutor.core.parser import parse_text, read_text

SUFFIXES = (".ipynb", ".py")
NBFORMAT = 4  # what nbformat reads without conversion; Jupyter has written it since 2015

_SPHINX_RULE = re.compile(r"^#{20,}\s*$", re.MULTILINE)  # sphinx-gallery's text-block rule
_md = MarkdownIt("commonmark")
_DOCSTRING = re.compile(r"^\s*[rRuU]?(\"\"\"|''')")


def parse_notebook(path: Path) -> Lesson:
    text = read_text(path)
    if path.suffix == ".ipynb":
        notebook = read_ipynb(text, path)
    else:
        notebook = jupytext.reads(text, fmt=py_format(text))
        _drop_added_matplotlib(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = _stray_fences_escaped(cell.source)
    notebook.metadata = {}  # a notebook's metadata is not our front matter: no header but jupytext's
    markdown = jupytext.writes(notebook, fmt="md")
    code = [(n, c) for n, c in enumerate(notebook.cells, 1) if c.cell_type == "code"]
    if path.suffix == ".ipynb":
        return _place_ipynb(markdown, path, code)
    return _place_script(markdown, path, text, [c for _, c in code])


def read_ipynb(text: str, path: Path) -> NotebookNode:
    """The notebook, or a `PATH:LINE` error an author can act on (no traceback)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LessonError(path, exc.lineno, f"not a notebook: invalid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise LessonError(path, 1, "not a Jupyter notebook: no `cells` list at the top level")
    version = data.get("nbformat")
    if version != NBFORMAT:
        raise LessonError(
            path,
            _line_of(text, '"nbformat"'),
            f"nbformat {version!r} is not supported: save the notebook as nbformat {NBFORMAT}",
        )
    try:
        return jupytext.reads(text, fmt="ipynb")
    except Exception as exc:  # noqa: BLE001 - nbformat's validation errors come in many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LessonError(path, 1, f"not a valid notebook: {first}") from None


def py_format(text: str) -> str:
    """jupytext guesses percent and light itself; a sphinx-gallery script (a docstring at
    the top, text blocks under `#####` rules) it would read as light, one big cell."""
    if _DOCSTRING.match(text) and _SPHINX_RULE.search(text) and "# %%" not in text:
        return "py:sphinx"
    return "py"


def _drop_added_matplotlib(notebook: NotebookNode) -> None:
    """jupytext reads a sphinx-gallery script with a `%matplotlib inline` cell of its own in
    front: no line of the script, and plots are captured here anyway."""
    form = notebook.metadata.get("jupytext", {}).get("text_representation", {})
    cells = notebook.cells
    added = cells and cells[0].cell_type == "code" and cells[0].source == "%matplotlib inline"
    if added and form.get("format_name") == "sphinx":
        del cells[0]


def _stray_fences_escaped(text: str) -> str:
    """A Markdown cell with its unclosed fences escaped (`\\~~~~`). Each cell of a notebook
    is rendered alone; in one Markdown file an RST section underline (`~~~~~~` under a
    title, common in sphinx-gallery text) would open a fence that swallows every cell
    after it."""
    for _ in range(text.count("\n") + 1):
        lines = text.splitlines()
        stray = next((tok for tok in _md.parse(text) if _unclosed(tok, lines)), None)
        if stray is None:
            return text
        start = stray.map[0]  # type: ignore[index]
        indent = len(lines[start]) - len(lines[start].lstrip())
        lines[start] = lines[start][:indent] + "\\" + lines[start][indent:]
        text = "\n".join(lines)
    return text


def _unclosed(tok: Token, lines: list[str]) -> bool:
    if tok.type != "fence" or tok.map is None:
        return False
    start, end = tok.map
    closing = lines[end - 1].strip() if end - 1 > start else ""
    return not (closing.startswith(tok.markup) and set(closing) == {tok.markup[0]})


def _line_of(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _parse(markdown: str, path: Path, where: Any) -> Lesson:
    try:
        return parse_text(markdown, path)
    except LessonError as err:
        line, place = where(err.line)
        raise LessonError(path, line, err.message, place) from None


def _runnable(lesson: Lesson, sources: list[str]) -> list[tuple[CodeCell, int]]:
    """Each code cell of the Markdown with the notebook code cell it came from. A ```python
    fence inside a Markdown cell is an example to read, not a cell: it stays prose."""
    found: list[tuple[CodeCell, int]] = []
    at = 0
    for cell in lesson.cells:
        for k in range(at, len(sources)):
            if sources[k].rstrip() == cell.source.rstrip():
                found.append((cell, k))
                at = k + 1
                break
    return found


def _rebuilt(lesson: Lesson, kept: dict[int, CodeCell], line_of: Any) -> list[Block]:
    """The lesson's blocks with its cells renumbered and placed; stray fences made prose."""
    blocks: list[Block] = []
    index = 0

    def prose(text: str, line: int) -> None:
        last = blocks[-1] if blocks else None
        if isinstance(last, Prose):  # one run of prose, as the Markdown cell was
            blocks[-1] = replace(last, text=f"{last.text}\n\n{text}")
        else:
            blocks.append(Prose(text, line))

    for block in lesson.blocks:
        if isinstance(block, CodeCell):
            cell = kept.get(block.index)
            if cell is None:
                prose(f"```python\n{block.source}\n```", line_of(block.line - 1))
                continue
            blocks.append(replace(cell, index=index))
            index += 1
        elif isinstance(block, Prose):
            prose(block.text, line_of(block.line))
        else:
            blocks.append(replace(block, line=line_of(block.line)))
    return blocks


def _place_ipynb(markdown: str, path: Path, code: list[tuple[int, NotebookNode]]) -> Lesson:
    lesson = _parse(markdown, path, lambda line: (line, ""))
    pairs = _runnable(lesson, [c.source for _, c in code])
    places = NotebookPlaces(
        tuple((cell.line, len(cell.source.splitlines()), code[k][0]) for cell, k in pairs)
    )
    kept = {cell.index: cell for cell, _ in pairs}
    lesson.blocks = _rebuilt(lesson, kept, lambda line: line)
    lesson.places = places
    return lesson


def _place_script(markdown: str, path: Path, text: str, code: list[NotebookNode]) -> Lesson:
    file_lines = text.splitlines()
    lesson = _parse(markdown, path, lambda line: (1, ""))
    pairs = _runnable(lesson, [c.source for c in code])
    anchors: list[tuple[int, int]] = []  # (Markdown line, file line) of each placed cell
    kept: dict[int, CodeCell] = {}
    start = 0
    for cell, _ in pairs:
        found = _find(file_lines, cell.source.splitlines(), start)
        if found is None:  # a cell jupytext adds (sphinx's `%matplotlib inline`): no line
            kept[cell.index] = replace(cell, line=max(start, 1))
            continue
        kept[cell.index] = replace(cell, line=found + 1)
        anchors.append((cell.line, found + 1))
        start = found + len(cell.source.splitlines())

    def line_of(md_line: int) -> int:
        # Prose sits just above the cell after it, in the Markdown as in the script.
        after = next(((m, f) for m, f in anchors if m >= md_line), None)
        if after is None:
            return min(max(start + 1, 1), max(len(file_lines), 1))
        return max(1, after[1] - (after[0] - md_line))

    lesson.blocks = _rebuilt(lesson, kept, line_of)
    return lesson


def _same(file_line: str, cell_line: str) -> bool:
    """A script line as jupytext reads it: IPython syntax is commented out in a .py file
    (`# %matplotlib inline`, `# torch.ones?`) and plain in the notebook."""
    text, want = file_line.rstrip(), cell_line.rstrip()
    if text == want:
        return True
    indent = len(want) - len(want.lstrip())
    return text == f"{want[:indent]}# {want[indent:]}"


def _find(file_lines: list[str], cell_lines: list[str], start: int) -> int | None:
    """The 0-based file line where the cell's lines are, searching from `start`."""
    if not cell_lines:
        return None
    first_only = None
    for at in range(start, len(file_lines)):
        if not _same(file_lines[at], cell_lines[0]):
            continue
        got = file_lines[at : at + len(cell_lines)]
        if len(got) == len(cell_lines) and all(map(_same, got, cell_lines)):
            return at
        first_only = at if first_only is None else first_only
    return first_only
