"""A `.ipynb` lesson in the app (issue 14): cells named by their notebook number, the output
the notebook saved shown beside this machine's, tracebacks at `cell N, line L`."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from .helpers import cell_text, cells_done, wait_for

pytestmark = pytest.mark.anyio


def saved_notebook(path: Path) -> Path:
    cells = [
        new_markdown_cell("# Saved outputs\n\nA notebook as its author left it."),
        new_code_cell(
            "import torch\nprint(torch.ones(2).sum().item())",
            outputs=[new_output("stream", name="stdout", text="2.0\n")],
        ),
        new_code_cell(
            "print('this machine')",
            outputs=[new_output("stream", name="stdout", text="the author's machine\n")],
        ),
        new_code_cell("x = 1\nundefined_name"),
    ]
    nbformat.write(new_notebook(cells=cells), path)
    return path


async def test_saved_outputs_beside_fresh_ones(make_app, tmp_path: Path) -> None:
    app = make_app(saved_notebook(tmp_path / "saved.ipynb"))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "LessonScreen")
        first = cell_text(pilot, 0)
        assert "cell 2 " in first  # the notebook's own numbering, markdown cell included
        assert "saved in the notebook (run the cell to compare)" in first
        await pilot.press("a")  # run all
        await cells_done(pilot)
        assert "the same as the output saved in the notebook" in cell_text(pilot, 0)
        second = cell_text(pilot, 1)
        assert "this machine" in second
        assert "different from this run" in second and "the author's machine" in second
        third = cell_text(pilot, 2)
        assert "NameError" in third
        assert "at cell 4:2" in third  # not a line of jupytext's Markdown
        assert "cell 4, line 2" in third  # the traceback's frame too
        assert "saved in the notebook" not in third  # the notebook saved nothing for it


@pytest.mark.slow
@pytest.mark.parametrize("form", ["ipynb", "py:percent", "py:light", "sphinx"])
async def test_every_format_runs_in_the_app(make_app, tmp_path: Path, form: str) -> None:
    """The notebook of tests/test_notebooks.py (magics, a shell escape, an error, a plot),
    written in each format and run whole in the app."""
    from tests.test_notebooks import SHELL, write_format

    path = write_format(tmp_path, form)
    app = make_app(path)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "LessonScreen")
        await pilot.press("a")  # run all
        await cells_done(pilot, timeout=120)
        states = app.screen.state.cells
        shown = [cell_text(pilot, i) for i in range(len(states))]
        everything = "\n".join(shown)
        assert "tensor([2., 2.])" in everything and "Wall time" in everything
        assert SHELL in everything
        assert "ZeroDivisionError" in everything
        assert any(s.result and s.result.plots for s in states)  # the plot came through
        assert "SyntaxError" not in everything
