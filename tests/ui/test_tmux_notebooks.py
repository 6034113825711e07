"""Issue 14 end to end: the installed command in tmux opens the tutorials people already
have: Markdown with no front matter, a sphinx-gallery tutorial converted by jupytext's own
command, and a `.ipynb` whose saved outputs are shown beside this machine's."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from .helpers import installed_command
from .test_tmux import TMUX, Tmux

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed"),
]

# In the style of PyTorch's own autograd tutorial (a sphinx-gallery script): a docstring
# of reST, `#####` separators, comment blocks as prose.
SPHINX_TUTORIAL = '''"""
A Gentle Introduction to ``torch.autograd``
===========================================

``torch.autograd`` is PyTorch's automatic differentiation engine.
"""

import torch

######################################################################
# Differentiation in Autograd
# ---------------------------
# We create two tensors ``a`` and ``b`` with ``requires_grad=True``.

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
Q.backward(gradient=torch.ones(2))
print("gradients:", 9*a**2 == a.grad, -2*b == b.grad)
'''


def in_tmux(path: Path, data: Path) -> Tmux:
    tmux = Tmux(f"agt-{uuid.uuid4().hex[:8]}")
    shell = f"{installed_command()} {path}; echo AGT-EXIT=$?; sleep 60"
    tmux.start(shell, data)
    return tmux


def quit_cleanly(tmux: Tmux) -> None:
    tmux("send-keys", "-t", "app", "q")
    tmux.wait_for("AGT-EXIT=0", timeout=20)


def test_markdown_without_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text(
        "# Notes on grad\n\nNo front matter here.\n\n"
        "```python\nimport torch\nx = torch.ones(3, requires_grad=True)\n"
        "x.sum().backward()\nprint('grad is', x.grad)\n```\n",
        encoding="utf-8",
    )
    tmux = in_tmux(path, tmp_path / "data")
    try:
        tmux.wait_for("Notes on grad")  # the title from the first heading
        tmux.wait_for("sandbox:")
        tmux("send-keys", "-t", "app", "Enter")
        shown = tmux.wait_for("grad is tensor([1., 1., 1.])")
        assert "✓ ran" in shown
        quit_cleanly(tmux)
    finally:
        tmux("kill-server")


def test_sphinx_gallery_tutorial_converted_by_jupytext(tmp_path: Path) -> None:
    script = tmp_path / "autograd_tutorial.py"
    script.write_text(SPHINX_TUTORIAL, encoding="utf-8")
    jupytext = Path(sys.executable).parent / "jupytext"
    subprocess.run(
        [str(jupytext), "--from", "py:sphinx", "--to", "md", str(script)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    converted = tmp_path / "autograd_tutorial.md"
    # What jupytext writes for such a tutorial: a `%matplotlib inline` cell first (the
    # issue's SyntaxError once), the title as a reST-style underlined heading.
    assert converted.read_text(encoding="utf-8").startswith("```python\n%matplotlib inline")
    tmux = in_tmux(converted, tmp_path / "data")
    try:
        tmux.wait_for("A Gentle Introduction")
        tmux.wait_for("sandbox:")
        tmux("send-keys", "-t", "app", "Down", "Down", "u")  # the last cell, and those above
        shown = tmux.wait_for("gradients: tensor([True, True]) tensor([True, True])")
        assert "Error" not in shown
        quit_cleanly(tmux)
    finally:
        tmux("kill-server")


def test_notebook_with_saved_outputs(tmp_path: Path) -> None:
    path = tmp_path / "saved.ipynb"
    cells = [
        new_markdown_cell("# Saved outputs"),
        new_code_cell(
            "%matplotlib inline\nimport torch\nprint(torch.arange(3) * 2)",
            outputs=[new_output("stream", name="stdout", text="tensor([0, 2, 4])\n")],
        ),
    ]
    nbformat.write(new_notebook(cells=cells), path)
    tmux = in_tmux(path, tmp_path / "data")
    try:
        tmux.wait_for("cell 2 ")  # the notebook's numbering, not a line of the JSON
        tmux.wait_for("saved in the notebook")
        tmux.wait_for("sandbox:")
        tmux("send-keys", "-t", "app", "Enter")
        shown = tmux.wait_for("the same as the output saved in the notebook")
        assert "tensor([0, 2, 4])" in shown
        quit_cleanly(tmux)
    finally:
        tmux("kill-server")
