"""The learning-rate explorer: a lesson's model fitted for several learning rates at once.

What is fitted comes from the lesson that opens the explorer (its front matter's `explorer:`,
read here into an `ExplorerSetup`); the engine holds no lesson's data. The code runs in a
worker session (torch lives there); the curves come back as one plot with a series per rate,
and the final parameters as JSON on stdout.
"""

from __future__ import annotations

import ast
import json
import keyword
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd_tutor.core.lesson import ExplorerSetup, LessonError

MARK = "@@explorer@@"
MIN_EPOCHS, MAX_EPOCHS = 10, 5000  # what the epoch keys allow
MAX_POINTS = 1000
MAX_RATES = 8  # the choice line shows them all on one line
KEYS = ("intro", "x", "y", "model", "params", "rates", "chosen", "epochs")
MODULES = ("torch", "math")  # what a formula may use besides x and the parameters
RESERVED = {"x", "y", *MODULES}

CODE = """\
import json, math, torch
from autograd_tutor import plot
x = torch.tensor({x})
y = {y}
def model(x, {names}):
    return ({model})
finals = {{}}
for lr in {rates}:
    params = [torch.tensor([start], requires_grad=True) for start in {starts}]
    losses = []
    for epoch in range({epochs}):
        loss = ((model(x, *params) - y) ** 2).mean()
        for p in params:
            if p.grad is not None:
                p.grad.zero_()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())
    plot.line(losses, label=f"lr={{lr:g}}", figure="explorer")
    finals[f"{{lr:g}}"] = {{**{{n: p.item() for n, p in zip({names_list}, params)}}, "loss": losses[-1]}}
plot.title("loss per epoch (log scale)", figure="explorer")
plot.xlabel("epoch", figure="explorer")
plot.logy(True, figure="explorer")
print("{mark}" + json.dumps(finals))
"""


@dataclass
class Explorer:
    """What the learner has chosen for a lesson's setup: a set of rates and a number of
    epochs; the cursor is the rate the arrow keys change."""

    setup: ExplorerSetup
    rates: list[float] = field(init=False)
    epochs: int = field(init=False)
    cursor: float = field(init=False)

    def __post_init__(self) -> None:
        self.rates = list(self.setup.chosen)
        self.epochs = self.setup.epochs
        self.cursor = self.setup.chosen[0]

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.setup.params)

    def code(self) -> str:
        setup = self.setup
        y = f"torch.tensor({list(setup.y)})" if isinstance(setup.y, tuple) else f"({setup.y})"
        names = self.param_names
        return CODE.format(
            x=list(setup.x),
            y=y,
            names=", ".join(names),
            model=setup.model,
            rates=sorted(self.rates),
            starts=[start for _, start in setup.params],
            epochs=self.epochs,
            names_list=list(names),
            mark=MARK,
        )

    def step_rate(self, direction: int) -> None:
        choices = sorted(set(self.setup.rates) | {self.cursor})
        index = choices.index(self.cursor) + direction
        self.cursor = choices[max(0, min(len(choices) - 1, index))]

    def toggle(self) -> None:
        if self.cursor in self.rates and len(self.rates) > 1:
            self.rates.remove(self.cursor)
        elif self.cursor not in self.rates:
            self.rates.append(self.cursor)

    def change_epochs(self, factor: float) -> None:
        self.epochs = max(MIN_EPOCHS, min(MAX_EPOCHS, round(self.epochs * factor)))


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


# -- the front matter's `explorer:` -------------------------------------------------------

LineOf = Callable[..., int]  # line_of("x") -> the file line of `explorer: x:` (or nearest)


def read_setup(raw: Any, path: Path, line_of: LineOf) -> ExplorerSetup:
    """An `explorer:` mapping checked and typed, or a LessonError at the line to fix."""

    def fail(key: str | None, message: str) -> LessonError:
        where = f"explorer.{key}" if key else "explorer"
        return LessonError(path, line_of(key) if key else line_of(), f"`{where}`: {message}")

    if not isinstance(raw, dict):
        raise fail(None, "must be a mapping (x, y, model, params, rates, chosen, epochs)")
    for key in raw:
        if key not in KEYS:
            raise fail(str(key), f"unknown key (known: {', '.join(KEYS)})")
    for key in KEYS[1:]:
        if key not in raw:
            raise fail(None, f"needs `{key}`")

    x = _numbers(raw["x"], lambda m: fail("x", m), at_least=2)
    params = _params(raw["params"], lambda m: fail("params", m))
    if isinstance(raw["y"], str):
        y: tuple[float, ...] | str = _formula(raw["y"], ("x",), lambda m: fail("y", m))
    else:
        y = _numbers(raw["y"], lambda m: fail("y", m), at_least=2)
        if len(y) != len(x):
            raise fail("y", f"has {len(y)} values for {len(x)} x values")
    names = tuple(name for name, _ in params)
    model = _formula(raw["model"], ("x", *names), lambda m: fail("model", m))
    rates = tuple(sorted(set(_numbers(raw["rates"], lambda m: fail("rates", m), positive=True))))
    if len(rates) > MAX_RATES:
        raise fail("rates", f"at most {MAX_RATES} rates (the choice is one line)")
    chosen = _numbers(raw["chosen"], lambda m: fail("chosen", m), positive=True)
    if missing := [r for r in chosen if r not in rates]:
        raise fail("chosen", f"{missing[0]:g} is not one of `rates`")
    epochs = raw["epochs"]
    if not isinstance(epochs, int) or isinstance(epochs, bool):
        raise fail("epochs", f"must be a whole number, not {epochs!r}")
    if not MIN_EPOCHS <= epochs <= MAX_EPOCHS:
        raise fail("epochs", f"must be between {MIN_EPOCHS} and {MAX_EPOCHS}, not {epochs}")
    intro = raw.get("intro", "")
    if not isinstance(intro, str):
        raise fail("intro", "must be a line of text")
    return ExplorerSetup(
        x=x,
        y=y,
        model=model,
        params=params,
        rates=rates,
        chosen=tuple(dict.fromkeys(chosen)),
        epochs=epochs,
        intro=" ".join(intro.split()),
    )


def _numbers(
    value: Any, fail: Callable[[str], LessonError], *, at_least: int = 1, positive: bool = False
) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) < at_least:
        raise fail(f"must be a list of at least {at_least} number(s), not {value!r}")
    if len(value) > MAX_POINTS:
        raise fail(f"at most {MAX_POINTS} values")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise fail(f"{item!r} is not a finite number")
        if positive and item <= 0:
            raise fail(f"{item!r} is not above 0")
    return tuple(float(item) for item in value)


def _params(value: Any, fail: Callable[[str], LessonError]) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict) or not value:
        raise fail("must map each parameter to its start value, e.g. {a: 1.0, b: 1.0}")
    params = []
    for name, start in value.items():
        name = str(name)
        if not name.isidentifier() or keyword.iskeyword(name) or name in RESERVED:
            raise fail(
                f"`{name}` cannot name a parameter (a Python name other than x, y, torch, math)"
            )
        params.append((name, _numbers([start], fail)[0]))
    return tuple(params)


def _formula(value: Any, names: tuple[str, ...], fail: Callable[[str], LessonError]) -> str:
    """A one-line Python expression that uses only `names`, torch and math."""
    if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
        raise fail(f"must be a one-line Python expression, not {value!r}")
    try:
        tree = ast.parse(value.strip(), mode="eval")
    except SyntaxError as exc:
        raise fail(f"is not a Python expression: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in (*names, *MODULES):
            known = ", ".join((*names, *MODULES))
            raise fail(f"unknown name `{node.id}` (it may use {known})")
    return value.strip()
