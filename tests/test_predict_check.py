"""`check` proves each prediction's answer key against what torch computes (real worker)."""

from __future__ import annotations

from pathlib import Path

from autograd_tutor.core.checker import check
from autograd_tutor.core.runner.client import WorkerHost

CELLS = [
    # (attributes, code): one cell per kind, each key right
    (
        'predict="n" number=6.0',
        "x = torch.tensor(3.0, requires_grad=True)\n(x ** 2).backward()\nx.grad",
    ),
    ('predict="t" tensor=[[1.0, 2.0]]', "torch.tensor([[1.0, 2.0]])"),
    ('predict="s" shape=[5, 5]', "(torch.randn(5, 1) - torch.randn(5)).shape"),
    ('predict="b" bool=false', "torch.tensor([1.0]).requires_grad"),
    ('predict="r" raises=true', "x.grad.backward()"),
    ('predict="q" raises=false', "x.grad.zero_()\nNone"),
]


def lesson_text(cells: list[tuple[str, str]]) -> str:
    parts = ["---\ntitle: Keys\n---\n\n```python\nimport torch\n```\n"]
    for attrs, code in cells:
        parts.append(
            f"```python {attrs}\n{code}\n```\n\n```question\nQ?\n```\n\n```explain\nE.\n```\n"
        )
    return "\n".join(parts)


def test_right_keys_pass_and_are_counted(tmp_path: Path, worker_host: WorkerHost) -> None:
    (tmp_path / "01-keys.en.md").write_text(lesson_text(CELLS), encoding="utf-8")
    report = check([tmp_path], worker_host)
    assert [str(p) for p in report.problems] == []
    assert report.predictions == 6
    assert report.summary().endswith("6 predictions: all good")


def test_each_wrong_key_is_reported_at_its_cell(tmp_path: Path, worker_host: WorkerHost) -> None:
    wrong = [
        ('predict="n" number=4.0', CELLS[0][1]),
        ('predict="t" tensor=[1.0, 2.0]', CELLS[1][1]),  # the right numbers, the wrong shape
        ('predict="s" shape=[5]', CELLS[2][1]),
        ('predict="b" bool=true', CELLS[3][1]),
        ('predict="r" raises=false', CELLS[4][1]),
        ('predict="q" raises=true', CELLS[5][1]),
    ]
    path = tmp_path / "01-keys.en.md"
    path.write_text(lesson_text(wrong), encoding="utf-8")
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if 'predict="' in line]
    found = sorted(str(p) for p in check([tmp_path], worker_host).problems)
    assert found == sorted(
        [
            f"{path}:{lines[0]}: prediction 'n': the answer key number=4.0 is wrong: the cell gives 6.0",
            f"{path}:{lines[1]}: prediction 't': the answer key tensor=[1.0, 2.0] is wrong: "
            "the cell gives [[1.0, 2.0]]",
            f"{path}:{lines[2]}: prediction 's': the answer key shape=(5,) is wrong: "
            "the cell gives (5, 5)",
            f"{path}:{lines[3]}: prediction 'b': the answer key bool=True is wrong: "
            "the cell gives False",
            f"{path}:{lines[4] + 1}: cell 6 raised RuntimeError: element 0 of tensors does not "
            "require grad and does not have a grad_fn",
            f"{path}:{lines[5] + 1}: cell 7 is predicted to raise but ran without error",
        ]
    )


def test_a_notebooks_wrong_key_is_placed_at_its_cell(
    tmp_path: Path, worker_host: WorkerHost
) -> None:
    import json

    def cell(kind: str, source: str, metadata: dict | None = None) -> dict:
        found = {"cell_type": kind, "id": f"c{len(source)}", "metadata": metadata or {}}
        found["source"] = source
        return {**found, "outputs": [], "execution_count": None} if kind == "code" else found

    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            cell("markdown", "# Guess"),
            cell("code", "import torch\ntorch.tensor(3.0) * 2", {"predict": "six", "number": 5.0}),
            cell("markdown", "```question\nWhat number?\n```\n\n```explain\n3 times 2.\n```"),
        ],
    }
    path = tmp_path / "guess.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    found = [str(p) for p in check([path], worker_host).problems]
    assert found == [
        f"{path}:cell 2:1: prediction 'six': the answer key number=5.0 is wrong: the cell gives 6.0"
    ]
