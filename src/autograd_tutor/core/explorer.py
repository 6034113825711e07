"""The learning-rate explorer: the syllabus's linear regression run for several learning rates.

The code runs in a worker session (torch lives there); the curves come back as one plot
with a series per rate, and the final parameters as JSON on stdout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# y = 2x + 1, the syllabus's data.
DATA_X = [1.0, 2.0, 3.0, 4.0, 5.0]
DATA_Y = [3.0, 5.0, 7.0, 9.0, 11.0]
RATES = [0.001, 0.003, 0.01, 0.03, 0.05, 0.1]
MARK = "@@explorer@@"

CODE = """\
import json, math, torch
from autograd_tutor import plot
x = torch.tensor({x})
y = torch.tensor({y})
finals = {{}}
for lr in {rates}:
    a = torch.tensor([1.0], requires_grad=True)
    b = torch.tensor([1.0], requires_grad=True)
    losses = []
    for epoch in range({epochs}):
        loss = ((a * x + b - y) ** 2).mean()
        if a.grad is not None:
            a.grad.zero_(); b.grad.zero_()
        loss.backward()
        with torch.no_grad():
            a -= lr * a.grad
            b -= lr * b.grad
        losses.append(loss.item())
    plot.line(losses, label=f"lr={{lr:g}}", figure="explorer")
    finals[f"{{lr:g}}"] = {{"a": a.item(), "b": b.item(), "loss": losses[-1]}}
plot.title("loss per epoch (log scale)", figure="explorer")
plot.xlabel("epoch", figure="explorer")
plot.logy(True, figure="explorer")
print("{mark}" + json.dumps(finals))
"""


@dataclass
class Explorer:
    """What the learner has chosen: a set of learning rates and a number of epochs."""

    rates: list[float] = field(default_factory=lambda: [0.01, 0.1])
    epochs: int = 100
    cursor: float = 0.01  # the rate the arrow keys change

    def code(self) -> str:
        return CODE.format(
            x=DATA_X, y=DATA_Y, rates=sorted(self.rates), epochs=self.epochs, mark=MARK
        )

    def step_rate(self, direction: int) -> None:
        choices = sorted(set(RATES) | {self.cursor})
        index = choices.index(self.cursor) + direction
        self.cursor = choices[max(0, min(len(choices) - 1, index))]

    def toggle(self) -> None:
        if self.cursor in self.rates and len(self.rates) > 1:
            self.rates.remove(self.cursor)
        elif self.cursor not in self.rates:
            self.rates.append(self.cursor)

    def change_epochs(self, factor: float) -> None:
        self.epochs = max(10, min(5000, round(self.epochs * factor)))


def parse_finals(stdout: str) -> dict[str, dict[str, Any]]:
    """{"0.01": {"a":..., "b":..., "loss":...}, ...}; `diverged` when the loss is not finite or grew."""
    for line in stdout.splitlines():
        if line.startswith(MARK):
            finals = json.loads(line[len(MARK) :])
            for values in finals.values():
                loss = values["loss"]
                values["diverged"] = not (loss == loss and abs(loss) < 1e6)
            return finals
    return {}
