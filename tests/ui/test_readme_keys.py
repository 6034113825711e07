"""The README's key table says exactly what the app's BINDINGS do, and keys stay single."""

from __future__ import annotations

import re
from pathlib import Path

from textual.binding import Binding

from autograd_tutor.ui.app import TutorApp
from autograd_tutor.ui.screens.explorer import ExplorerScreen
from autograd_tutor.ui.screens.help import HelpScreen
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.lessons import LessonListScreen
from autograd_tutor.ui.widgets.cell import CellEditor
from autograd_tutor.ui.widgets.inspector import TensorInspector

README = Path(__file__).resolve().parents[2] / "README.md"
SCREENS = [
    ("everywhere", TutorApp),
    ("lesson list", LessonListScreen),
    ("lesson", LessonScreen),
    ("editor", CellEditor),
    ("inspector", TensorInspector),
    ("explorer", ExplorerScreen),
    ("help", HelpScreen),
]
# How the README writes key names Textual spells out.
SHOWN = {
    "question_mark": "?",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "plus": "+",
    "equals_sign": "=",
    "minus": "-",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}
SINGLE = re.compile(
    r"[a-z0-9?]|escape|enter|up|down|left|right|tab|space|question_mark"
    r"|plus|minus|equals_sign|left_square_bracket|right_square_bracket"
)


def readme_rows() -> set[tuple[tuple[str, ...], str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Keys\n", 1)[1].split("\n## ", 1)[0]
    rows = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("Key", "---"):
            continue
        keys = tuple(k.strip().strip("`") for k in cells[0].split(" / "))
        rows.add((keys, cells[1], cells[2]))
    return rows


def binding_rows() -> set[tuple[tuple[str, ...], str, str]]:
    rows = set()
    for where, owner in SCREENS:
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding)
            keys = tuple(SHOWN.get(k.strip(), k.strip()) for k in binding.key.split(","))
            rows.add((keys, where, binding.tooltip))
    return rows


def test_readme_key_table_matches_bindings() -> None:
    documented, bound = readme_rows(), binding_rows()
    assert documented, "no key table under `## Keys` in README.md"
    assert documented - bound == set(), "in the README but not bound"
    assert bound - documented == set(), "bound but not in the README"


def test_keys_are_single_keys() -> None:
    for _, owner in SCREENS:
        for binding in owner.BINDINGS:
            for key in binding.key.split(","):
                assert SINGLE.fullmatch(key.strip()), f"{key!r} is not a single key"
