"""Shipped lessons open in Jupyter: jupytext reads the same code cells we run."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_tutor.core.library import lesson_files, shipped_lessons
from autograd_tutor.core.parser import parse_file

jupytext = pytest.importorskip("jupytext")

LESSONS = lesson_files(shipped_lessons())


def test_there_are_shipped_lessons() -> None:
    assert len(LESSONS) >= 2


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_round_trip_to_notebook(path: Path) -> None:
    notebook = jupytext.read(path, fmt="md")
    # wrong= cells are for `check` alone: no cell of the lesson (docs/authoring.md)
    code = [c for c in notebook.cells if c.cell_type == "code" and "wrong" not in c.metadata]
    lesson = parse_file(path)
    assert [c.source.strip() for c in code] == [c.source.strip() for c in lesson.cells]
    for ours, theirs in zip(lesson.cells, code):
        assert list(theirs.metadata.get("tags", [])) == list(ours.tags)
    # and back: the notebook written as Markdown still parses to the same cells
    text = jupytext.writes(notebook, fmt="md")
    again = path.parent / f"_roundtrip_{path.name}"
    try:
        again.write_text(text, encoding="utf-8")
        assert [c.source.strip() for c in parse_file(again).cells] == [
            c.source.strip() for c in lesson.cells
        ]
    finally:
        again.unlink()
