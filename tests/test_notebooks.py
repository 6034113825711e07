"""Tutorials as people have them (issue 14): `.ipynb`, `.py` in the percent, light and
sphinx-gallery formats, Markdown without front matter; IPython syntax in their cells.
Real files, the installed command, the real worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograd_tutor.core.library import lesson_files
from autograd_tutor.core.runner.cell.execute import CellRunner

# Slow lane (every notebook format through the installed command): CI runs it; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "autograd_tutor"]
SHELL = "shell commands do not run in the tutor's sandbox"

CELLS = [
    ("markdown", "# Autograd, the notebook way\n\nGradients of a tiny function."),
    ("code", "%matplotlib inline\nimport torch\nimport matplotlib.pyplot as plt"),
    (
        "code",
        "x = torch.ones(2, requires_grad=True)\n%time y = (x * 2).sum()\ny.backward()\nprint(x.grad)",
    ),
    ("code", "%%time\nw = x.detach() * 3\nprint(w.sum().item())"),
    ("code", "%timeit x.detach() + 1"),
    ("markdown", "Shell escapes and installs do not run here."),
    ("code", "!ls -l"),
    ("code", "%pip install numpy"),
    ("code", "torch.ones?"),
    ("code", "%nosuchmagic 1"),
    ("code", "z = 1\nz / 0"),
    ("code", 'plt.plot([1, 2, 3])\nplt.title("line")\nplt.show()'),
]

# As sphinx-gallery authors write them: a docstring, then text blocks under `#####` rules.
SPHINX = '''\
"""
Autograd, the notebook way
==========================

Gradients of a tiny function.
"""
# %matplotlib inline
import torch
import matplotlib.pyplot as plt

######################################################################
# The gradient.

x = torch.ones(2, requires_grad=True)
# %time y = (x * 2).sum()
y.backward()
print(x.grad)

######################################################################
# Shell escapes and installs do not run here.

# !ls -l

######################################################################
# An RST section: its underline is no Markdown fence
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
#
# An error, and a plot.

z = 1
z / 0

######################################################################
# A plot.

plt.plot([1, 2, 3])
plt.title("line")
plt.show()
'''


def notebook(cells: list[tuple[str, str]] = CELLS) -> nbformat.NotebookNode:
    made = [new_markdown_cell(s) if kind == "markdown" else new_code_cell(s) for kind, s in cells]
    return new_notebook(
        cells=made, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    )


def write_format(folder: Path, form: str) -> Path:
    """The notebook above as a file of `form`: ipynb, py:percent, py:light or sphinx."""
    if form == "ipynb":
        path = folder / "autograd.ipynb"
        nbformat.write(notebook(), path)
    elif form == "sphinx":
        path = folder / "plot_autograd.py"
        path.write_text(SPHINX)
    else:
        path = folder / f"autograd_{form[3:]}.py"
        path.write_text(jupytext.writes(notebook(), fmt=form))  # as `jupytext --to` writes it
    return path


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=180)


def run_json(path: Path) -> list[dict[str, Any]]:
    done = cli("run", "--json", path)
    assert done.returncode == 1, done.stderr  # the shell escapes and the error are not tagged
    return [json.loads(line) for line in done.stdout.splitlines()]


def by_source(records: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The record of the cell whose error or output shows `text`."""
    return next(r for r in records if text in json.dumps(r))


def by_code(records: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The record of the code cell of CELLS whose source holds `text`."""
    code = [source for kind, source in CELLS if kind == "code"]
    return records[next(i for i, source in enumerate(code) if text in source)]


def line_in(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("form", ["ipynb", "py:percent", "py:light", "sphinx"])
def test_every_format_runs_with_its_magics(tmp_path: Path, form: str) -> None:
    path = write_format(tmp_path, form)
    records = run_json(path)

    grad = by_source(records, "tensor([2., 2.])")
    assert grad["status"] == "ok" and "Wall time" in grad["stdout"]  # %time ran its statement
    shell = by_source(records, "ls -l")
    assert shell["status"] == "error" and shell["error"]["message"].startswith(SHELL)
    error = by_source(records, "ZeroDivisionError")
    assert error["status"] == "error"
    plot = next(r for r in records if r["plots"])
    assert plot["status"] == "ok" and plot["plots"][0]["title"] == "line"
    if form == "ipynb":
        # The notebook's cell 11, its line 2: where Jupyter shows the author the error.
        assert error["place"] == "cell 11:1"
        assert 'File "' in error["error"]["traceback"]
        assert "cell 11, line 2, in <module>" in error["error"]["traceback"]
        checked = cli("check", path).stdout
        assert f"{path}:cell 11:2: cell 11 raised ZeroDivisionError: division by zero" in checked
    else:
        assert error["error"]["line"] == line_in(path, "z / 0")  # the script's own line
        assert f'{path.name}", line {line_in(path, "z / 0")},' in error["error"]["traceback"]
        assert shell["line"] == line_in(path, "# !ls -l")
    if form != "sphinx":
        assert "Wall time" in by_code(records, "w.sum()")["stdout"]  # %%time
        assert "per loop" in by_code(records, "x.detach() + 1")["stdout"]  # %timeit
        pip = by_code(records, "%pip install")
        assert pip["error"]["message"] == f"{SHELL}: %pip install numpy"
        help_ = by_code(records, "torch.ones?")
        assert help_["status"] == "ok" and "Returns a tensor filled with" in help_["stdout"]
        unknown = by_code(records, "nosuchmagic")
        assert unknown["error"]["type"] == "UsageError"
        assert "unknown magic %nosuchmagic" in unknown["error"]["message"]


def test_markdown_without_front_matter_runs(tmp_path: Path) -> None:
    path = tmp_path / "tutorial.md"
    # What `jupytext --to md` makes of the official tutorial: its header, a heading, magics.
    path.write_text(jupytext.writes(notebook(CELLS[:3]), fmt="md"))
    done = cli("run", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"Autograd, the notebook way — {path}")


MALFORMED = [
    ("invalid JSON", '{\n "cells": [\n  }\n', 3, "not a notebook: invalid JSON"),
    ("not a notebook", "[1, 2]\n", 1, "not a Jupyter notebook: no `cells` list"),
    ("old nbformat", '{\n "cells": [],\n "metadata": {},\n "nbformat": 3\n}\n', 4, "nbformat 3"),
    (
        "invalid cell",
        '{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        1,
        "not a valid notebook",
    ),
]


@pytest.mark.parametrize("name,text,line,message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_ipynb_says_where(
    tmp_path: Path, name: str, text: str, line: int, message: str
) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text(text)
    done = cli("run", path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"{path}:{line}: {message}"), done.stderr
    assert "Traceback" not in done.stderr
    checked = cli("check", path)
    assert checked.returncode == 2 and f"{path}:{line}: {message}" in checked.stdout


def test_compare_outputs(tmp_path: Path) -> None:
    cells = [
        new_markdown_cell("# Saved outputs"),
        new_code_cell(
            'print("same")  ', outputs=[new_output("stream", name="stdout", text="same\n")]
        ),
        new_code_cell(
            "object()",
            outputs=[
                new_output(
                    "execute_result",
                    data={"text/plain": "<object object at 0x7f3a2b1c0e50>"},
                    execution_count=1,
                )
            ],
        ),
        new_code_cell("print(2 + 2)", outputs=[new_output("stream", name="stdout", text="5\n")]),
        new_code_cell(
            '%time print("timed")',
            outputs=[
                new_output(
                    "stream", name="stdout", text="timed\nCPU times: total: 9 s\nWall time: 9 s\n"
                )
            ],
        ),
        new_code_cell("x = 1"),  # saved nothing: nothing to compare
    ]
    path = tmp_path / "saved.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    assert cli("check", path).returncode == 0
    done = cli("check", "--compare-outputs", path)
    assert done.returncode == 1, done.stdout + done.stderr
    problems = [line for line in done.stdout.splitlines() if line.startswith(str(path))]
    assert problems == [f"{path}:cell 4: output differs: line 1: saved '5', now '4'"]


def test_a_folder_lists_notebooks_and_scripts_not_helpers(tmp_path: Path) -> None:
    nbformat.write(notebook(CELLS[:2]), tmp_path / "a.ipynb")
    (tmp_path / "b.py").write_text(jupytext.writes(notebook(CELLS[:2]), fmt="py:percent"))
    (tmp_path / "c.py").write_text(SPHINX)
    (tmp_path / "helpers.py").write_text("def helper():\n    return 1\n")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    nbformat.write(notebook(CELLS[:2]), tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb")
    assert [p.name for p in lesson_files(tmp_path)] == ["a.ipynb", "b.py", "c.py"]


def test_lesson_lines_stay_right_after_the_transform() -> None:
    runner = CellRunner()
    code = "%matplotlib inline\nx = 1\n%time y = x\n\n%timeit -n1 -r1 y\n1 / (x - 1)"
    assert runner.run(code, "lesson.md", 20)["error"]["line"] == 25
    cell_magic = runner.run("%%time\nq = 0\n\n1 / q", "lesson.md", 40)
    assert cell_magic["error"]["line"] == 43
    assert 'File "lesson.md", line 43' in cell_magic["error"]["traceback"]
    plain = runner.run("a = 5 % 3  # not a magic!\na != 1", "lesson.md", 1)
    assert (plain["status"], plain["value"]) == ("ok", "True")


def test_a_notebooks_cells_and_their_places(tmp_path: Path) -> None:
    from autograd_tutor.core.parser import parse_file

    cells = [
        new_markdown_cell("Intro, with an example to read:\n\n```python\nnot_a_cell()\n```"),
        new_code_cell("!ls", metadata={"tags": ["raises-exception"]}),
        new_markdown_cell("# A heading"),
        new_code_cell("x = 1\ny = 2"),
    ]
    path = tmp_path / "02-example.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    lesson = parse_file(path)
    assert lesson.title == "A heading" and lesson.order == 2
    assert [(c.index, c.source, c.raises) for c in lesson.cells] == [
        (0, "!ls", True),
        (1, "x = 1\ny = 2", False),
    ]
    second = lesson.cells[1]
    assert (lesson.place(second.line), lesson.place(second.line + 1)) == ("cell 4:1", "cell 4:2")
    assert "not_a_cell()" in lesson.blocks[0].text  # type: ignore[union-attr]
