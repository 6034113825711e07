"""Plots for lesson cells: ``from autograd_tutor import plot``.

    for step in range(100):
        ...
        plot.point(loss)          # the loss curve grows while the cell runs
    plot.logy()                   # losses shrink by decades: log y axis
    plot.line(ys, xs, label="f(x)")
    plot.scatter(xs, ys, label="data")
    plot.title("Gradient descent"); plot.xlabel("step"); plot.ylabel("loss")

Values may be lists, numpy arrays, torch tensors or numbers. NaN and inf are left out
and counted, so a diverging run shows as "diverged" instead of failing. Every function
takes ``figure=`` to draw into a second plot. Kept thin so the import stays cheap: no
torch, no textual.
"""

from autograd_tutor.core.runner.cell.plotting import (
    line,
    logy,
    point,
    scatter,
    title,
    xlabel,
    ylabel,
)

__all__ = ["line", "logy", "point", "scatter", "title", "xlabel", "ylabel"]
