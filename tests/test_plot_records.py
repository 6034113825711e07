"""The syllabus's gradient-descent code, matplotlib calls and all, runs unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SYLLABUS = """\
import torch
from matplotlib import pyplot as plt
import numpy as np


def test01():
    x = np.linspace(-10, 10, 100)
    y = x ** 2
    plt.plot(x, y)
    plt.show()


def test02():
    x = torch.tensor([3.0], requires_grad=True, dtype=torch.float)
    epochs = 50
    lr = 0.1
    list = []
    for i in range(epochs):
        y = x ** 2
        if x.grad is not None:
            x.grad.zero_()
        y.backward()
        with torch.no_grad():
            x -= lr * x.grad
        print('epoch:', i, 'x:', x.item(), 'y:', y.item())
        list.append((x.item(), y.item()))
    x_list = [l[0] for l in list]
    y_list = [l[1] for l in list]
    plt.scatter(x=x_list, y=y_list)
    plt.show()


if __name__ == "__main__":
    test01()
    test02()
"""


def test_syllabus_descent_plots(tmp_path: Path) -> None:
    path = tmp_path / "descent.md"
    path.write_text(f"---\ntitle: descent\n---\n```python\n{SYLLABUS}```\n")
    out = subprocess.run(
        [sys.executable, "-m", "autograd_tutor", "run", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    (record,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert record["status"] == "ok"
    assert record["stdout"].count("epoch:") == 50
    parabola, descent = record["plots"]
    assert parabola["series"][0]["kind"] == "line" and len(parabola["series"][0]["points"]) == 100
    points = descent["series"][0]["points"]
    assert descent["series"][0]["kind"] == "scatter" and len(points) == 50
    assert abs(points[0][0] - 2.4) < 1e-6 and abs(points[-1][0]) < 1e-3  # x walks down to 0

    text = subprocess.run(
        [sys.executable, "-m", "autograd_tutor", "run", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "⠁" in text or "•" in text or "┤" in text  # the plots are drawn as text
