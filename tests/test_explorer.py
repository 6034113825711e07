"""The learning-rate explorer: set up by the lesson that opens it (front matter `explorer:`),
checked with `PATH:LINE` problems, and run on the syllabus's setup through a real worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autograd_tutor.core.explorer import Explorer, parse_finals
from autograd_tutor.core.lesson import ExplorerSetup, LessonError
from autograd_tutor.core.parser import parse_file, parse_text
from autograd_tutor.core.runner.client import Session

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "09-linear-regression.en.md"
GOOD = """\
x: [1, 2, 3]
  y: 2 * x + 1
  model: a * x + b
  params: {a: 1.0, b: 0}
  rates: [0.1, 0.01]
  chosen: [0.01]
  epochs: 20
"""


def lesson_text(explorer: str) -> str:
    """A lesson whose front matter's line 3 is `explorer:`, its keys on the lines after."""
    return f"---\ntitle: Fit\nexplorer:\n  {explorer}---\n\n```python\n1\n```\n"


def syllabus() -> ExplorerSetup:
    setup = parse_file(LESSON).explorer
    assert setup is not None, "the linear-regression lesson sets up the explorer"
    return setup


def test_rates_diverge_and_converge(session: Session) -> None:
    explorer = Explorer(syllabus())
    assert (explorer.rates, explorer.epochs) == ([0.01, 0.1], 100)
    result = session.run(explorer.code(), timeout=60)
    assert result.status == "ok", result.error
    finals = parse_finals(result.stdout)
    assert finals["0.1"]["diverged"] is True  # lr 0.1 explodes on this data
    good = finals["0.01"]
    assert not good["diverged"] and abs(good["a"] - 2) < 0.1 and abs(good["b"] - 1) < 0.25
    (plot,) = (p.figure for p in result.plots)
    assert plot["logy"] is True
    assert sorted(s["label"] for s in plot["series"]) == ["lr=0.01", "lr=0.1"]
    assert all(len(s["points"]) == 100 for s in plot["series"])


def test_both_translations_set_up_the_same_explorer() -> None:
    zh = parse_file(LESSON.with_name("09-linear-regression.zh.md")).explorer
    assert zh == syllabus()


def test_a_lesson_without_explorer_has_none() -> None:
    assert parse_text("---\ntitle: Plain\n---\n", Path("plain.md")).explorer is None


def test_points_formula_and_model_of_the_front_matter() -> None:
    setup = parse_text(lesson_text(GOOD), Path("fit.md")).explorer
    assert setup == ExplorerSetup(
        x=(1.0, 2.0, 3.0),
        y="2 * x + 1",
        model="a * x + b",
        params=(("a", 1.0), ("b", 0.0)),
        rates=(0.01, 0.1),
        chosen=(0.01,),
        epochs=20,
    )
    code = Explorer(setup).code()
    assert "x = torch.tensor([1.0, 2.0, 3.0])" in code  # floats, never an int tensor
    assert "y = (2 * x + 1)" in code and "def model(x, a, b):" in code


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("epochs: 20", "epochs: 2"), 10, "`explorer.epochs`: must be between 10 and 5000"),
        (("y: 2 * x + 1", "y: [3, 5]"), 5, "`explorer.y`: has 2 values for 3 x values"),
        (("y: 2 * x + 1", "y: 2 * z"), 5, "`explorer.y`: unknown name `z`"),
        (("model: a * x + b", "model: a * x +"), 6, "`explorer.model`: is not a Python expression"),
        (("model: a * x + b", "model: a * x + c"), 6, "`explorer.model`: unknown name `c`"),
        (("{a: 1.0, b: 0}", "{a: 1.0, x: 0}"), 7, "`explorer.params`: `x` cannot name"),
        (("[0.1, 0.01]", "[0.1, -1]"), 8, "`explorer.rates`: -1 is not above 0"),
        (("chosen: [0.01]", "chosen: [0.5]"), 9, "`explorer.chosen`: 0.5 is not one of `rates`"),
        (("x: [1, 2, 3]", "x: [1, two, 3]"), 4, "`explorer.x`: 'two' is not a finite number"),
        (("epochs: 20", "epochs: 20\n  colour: red"), 11, "`explorer.colour`: unknown key"),
        (("  epochs: 20\n", ""), 3, "`explorer`: needs `epochs`"),
    ],
)
def test_a_bad_value_says_where(change: tuple[str, str], line: int, message: str) -> None:
    text = lesson_text(GOOD.replace(*change))
    with pytest.raises(LessonError) as caught:
        parse_text(text, Path("fit.md"))
    assert caught.value.line == line, caught.value
    assert caught.value.message.startswith(message), caught.value


def test_check_prints_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "01-fit.en.md"
    path.write_text(lesson_text(GOOD.replace("epochs: 20", "epochs: many")))
    cli = [sys.executable, "-m", "autograd_tutor", "check", str(tmp_path)]
    out = subprocess.run(cli, capture_output=True, text=True, timeout=120).stdout
    assert f"{path}:10: `explorer.epochs`: must be a whole number, not 'many'" in out


def test_keys_change_the_choice() -> None:
    explorer = Explorer(syllabus())
    assert explorer.cursor == 0.01
    explorer.step_rate(+1)
    assert explorer.cursor == 0.03
    explorer.toggle()
    assert 0.03 in explorer.rates
    explorer.toggle()
    assert 0.03 not in explorer.rates
    explorer.change_epochs(2)
    assert explorer.epochs == 200
    explorer.change_epochs(0.001)
    assert explorer.epochs == 10
