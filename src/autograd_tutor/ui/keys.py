"""Every key of the app in one place: the screens' BINDINGS, the help overlay and the command
palette are made from these lists, and the keys that messages and cell headers quote are
named here, so they cannot drift; tests/ui/test_readme_keys.py holds the README's key
table to the bindings.

Only single keys: letters, ?, escape, enter and arrows (no shift+enter or ctrl+enter, which
many terminals cannot tell from enter).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.binding import ActiveBinding, Binding

from autograd_tutor.ui.i18n import _

# Keys quoted in messages ("press u to run the cells above"), kept in step with the bindings.
RUN_UPTO = "u"
EDIT = "e"
HINT = "h"
SOLUTION = "s"
RESTART = "z"
RUN = "enter"
INTERRUPT = "i"
INSPECTOR = "v"
GRAPH = "g"
EXPLORER = "o"
RESET = "x"
LANGUAGE = "w"

# Footer groups: one label for a pair of keys, so more of the footer fits in 80 columns.
CELL_MOVES = Binding.Group("Cell", compact=True)
LESSON_MOVES = Binding.Group("Lesson")
RATE_MOVES = Binding.Group("rate")  # the explorer's, so that its footer fits 80 columns
EPOCHS = Binding.Group("epochs")

APP = [
    Binding("question_mark", "help", "Keys", key_display="?", tooltip="Show every key (this help)"),
    Binding(
        "c", "command_palette", "Commands", tooltip="Open the command palette: every action by name"
    ),
    Binding("t", "toggle_dark", "Theme", tooltip="Switch between the dark and the light theme"),
    Binding(
        LANGUAGE,
        "switch_language",
        "中/En",
        tooltip="Switch the language: English / 中文 (the app and the lessons)",
    ),
    Binding("q", "quit", "Quit", tooltip="Quit (your progress is saved)"),
]

LESSON_LIST = [
    Binding(
        "up,k",
        "cursor_up",
        "Up",
        key_display="↑",
        tooltip="Move to the previous lesson in the list",
    ),
    Binding(
        "down,j",
        "cursor_down",
        "Down",
        key_display="↓",
        tooltip="Move to the next lesson in the list",
    ),
    Binding("enter", "open", "Open", tooltip="Open the lesson under the cursor"),
]

LESSON = [
    Binding(
        "up,k",
        "prev_cell",
        "Cell",
        key_display="↑",
        tooltip="Move to the previous code cell",
        group=CELL_MOVES,
    ),
    Binding(
        "down,j",
        "next_cell",
        "Cell",
        key_display="↓",
        tooltip="Move to the next code cell",
        group=CELL_MOVES,
    ),
    Binding(
        "enter,r",
        "run_cell",
        "Run",
        key_display="⏎",
        tooltip="Run the current cell (an exercise cell then runs its check)",
    ),
    Binding(
        RUN_UPTO,
        "run_upto",
        "Run to here",
        tooltip="Run every cell from the top down to the current one",
    ),
    Binding("a", "run_all", "Run all", tooltip="Run the whole lesson, top to bottom"),
    Binding(
        EDIT, "edit", "Edit", tooltip="Edit the current cell in a code editor (escape leaves it)"
    ),
    Binding(
        INTERRUPT, "interrupt", "Interrupt", tooltip="Stop the running cell and the queued ones"
    ),
    # Before the rarer cell keys: the footer is cut at the terminal's width.
    Binding(
        INSPECTOR,
        "toggle_inspector",
        "Vars",
        tooltip="Go to the tensor inspector (the session's tensors); again hides it",
    ),
    Binding(
        GRAPH,
        "graph",
        "Graph",
        tooltip="Show or hide the autograd graph of the cell's tensor",
    ),
    Binding(
        EXPLORER,
        "explorer",
        "Explorer",
        tooltip="Open the learning-rate explorer (several rates at once)",
    ),
    Binding(
        RESET,
        "reset_cell",
        "Reset",
        tooltip="Put the lesson's code back into the current cell",
    ),
    Binding(HINT, "hint", "Hint", tooltip="Reveal the next hint of the exercise"),
    Binding(
        SOLUTION, "solution", "Solution", tooltip="Show the reference solution of the exercise"
    ),
    Binding(
        RESTART, "restart", "Restart", tooltip="Restart the session: a fresh Python, no variables"
    ),
    Binding("n", "next_lesson", "Next", tooltip="Go to the next lesson", group=LESSON_MOVES),
    Binding("p", "prev_lesson", "Prev", tooltip="Go to the previous lesson", group=LESSON_MOVES),
    Binding("l,escape", "lessons", "Lessons", tooltip="Back to the lesson list"),
]

# priority: the editor's TextArea would otherwise take escape for itself.
EDITOR = [
    Binding(
        "escape",
        "leave",
        "Done editing",
        priority=True,
        tooltip="Leave the editor (the edit is kept; enter then runs it)",
    ),
]

# The inspector's own keys while it has the focus (it is a DataTable: the arrows move rows).
LESSON_INSPECTOR = [
    Binding(
        "enter",
        "select_cursor",
        "Graph",
        key_display="⏎",
        tooltip="Show the autograd graph of the tensor under the cursor",
    ),
    Binding("up,k", "cursor_up", "Tensor", key_display="↑", tooltip="Move to the previous tensor"),
    Binding("down,j", "cursor_down", "Tensor", key_display="↓", tooltip="Move to the next tensor"),
    # screen.: the lesson screen moves the focus, the inspector stays open.
    Binding(
        "escape",
        "screen.focus_cells",
        "Cells",
        key_display="esc",
        tooltip="Back to the cells (the inspector stays open)",
    ),
]

EXPLORER_SCREEN = [
    Binding(
        "left,h",
        "step(-1)",
        "rate",
        key_display="←/h",
        tooltip="Move to the next smaller rate",
        group=RATE_MOVES,
    ),
    Binding(
        "right,l",
        "step(1)",
        "rate",
        key_display="→/l",
        tooltip="Move to the next larger rate",
        group=RATE_MOVES,
    ),
    Binding(
        "space,t",
        "toggle",
        "add/remove",
        key_display="space/t",
        tooltip="Add the rate under the cursor to the run, or take it out",
    ),
    Binding(
        "plus,equals_sign,right_square_bracket",
        "epochs(2)",
        "epochs×2",
        key_display="+/]",
        tooltip="Twice as many epochs",
        group=EPOCHS,
    ),
    Binding(
        "minus,left_square_bracket",
        "epochs(0.5)",
        "epochs÷2",
        key_display="-/[",
        tooltip="Half as many epochs",
        group=EPOCHS,
    ),
    Binding("enter,r", "rerun", "run", key_display="enter/r", tooltip="Run the chosen rates again"),
    Binding("escape", "close", "close", key_display="esc", tooltip="Close the explorer"),
]

HELP = [
    Binding(
        "escape,question_mark,q", "close", "Close", key_display="esc", tooltip="Close this help"
    ),
]

# (where, bindings) in the order the help overlay and the README list them.
TABLES: list[tuple[str, list[Binding]]] = [
    ("everywhere", APP),
    ("lesson list", LESSON_LIST),
    ("lesson", LESSON),
    ("editor", EDITOR),
    ("inspector", LESSON_INSPECTOR),
    ("explorer", EXPLORER_SCREEN),
    ("help", HELP),
]

_NAMES = {
    "question_mark": "?",
    "escape": "escape",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "enter": "enter",
    "plus": "+",
    "equals_sign": "=",
    "minus": "-",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def help_first(bindings: dict[str, Any]) -> dict[str, Any]:
    """Screens' active bindings for the footer, with `?` first: the footer is cut at 80
    columns, and `?` is the key that shows all the others.

    A binding's second key is shown under its first key's name ("r" as ⏎, for run). When
    the first key does something else here (enter in the inspector shows a graph), that
    entry would say "⏎ Run" wrongly: it is left out of the footer (the key still works).
    """
    first = {k: v for k, v in bindings.items() if v.binding.action in ("help", "app.help")}
    ordered = {**first, **{k: v for k, v in bindings.items() if k not in first}}
    # Textual splits "enter,r" into one binding per key: find each key's first key again.
    primaries = {
        (b.action, k.strip()): b.key.split(",")[0].strip()
        for _, table in TABLES
        for b in table
        for k in b.key.split(",")
    }
    shown = {}
    for key, active in ordered.items():
        primary = primaries.get((active.binding.action, key), key)
        other = ordered.get(primary)
        if key != primary and other is not None and other.binding.action != active.binding.action:
            continue
        shown[key] = translated(active)
    return shown


def translated(active: ActiveBinding) -> ActiveBinding:
    """The binding worded in the current language for the footer; its keys stay the same.

    The tables keep the English words (the catalogue's msgids): translated when shown, so
    a switch of language only has to refresh the footer.
    """
    binding = active.binding
    group = binding.group
    if group is not None:
        group = dataclasses.replace(group, description=_(group.description))
    words = dataclasses.replace(
        binding,
        description=_(binding.description),
        tooltip=_(binding.tooltip) if binding.tooltip else binding.tooltip,
        group=group,
    )
    return active._replace(binding=words, tooltip=_(active.tooltip) if active.tooltip else "")


def key_names(binding: Binding) -> list[str]:
    return [_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(",")]


def rows() -> list[tuple[str, str, str]]:
    """(keys, where, what) for every binding, as the help overlay lists them."""
    return [
        (" / ".join(key_names(b)), _(where), _(b.tooltip or b.description))
        for where, bindings in TABLES
        for b in bindings
    ]
