"""Every key of the app in one place: the screens' BINDINGS, the help overlay, the command
palette and the README's key table are all made from these lists, so they cannot drift.

Only single keys: letters, ?, escape, enter and arrows (no shift+enter or ctrl+enter, which
many terminals cannot tell from enter).
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

# Keys quoted in messages ("press u to run the cells above"), kept in step with the bindings.
RUN_UPTO = "u"
EDIT = "e"
HINT = "h"
SOLUTION = "s"
RESTART = "z"
RUN = "enter"

# Footer groups: one label for a pair of keys, so more of the footer fits in 80 columns.
CELL_MOVES = Binding.Group("Cell", compact=True)
LESSON_MOVES = Binding.Group("Lesson")

APP = [
    Binding("question_mark", "help", "Keys", key_display="?", tooltip="Show every key (this help)"),
    Binding(
        "c", "command_palette", "Commands", tooltip="Open the command palette: every action by name"
    ),
    Binding("t", "toggle_dark", "Theme", tooltip="Switch between the dark and the light theme"),
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
    Binding("x", "reset_cell", "Reset", tooltip="Put the lesson's code back into the current cell"),
    Binding(HINT, "hint", "Hint", tooltip="Reveal the next hint of the exercise"),
    Binding(
        SOLUTION, "solution", "Solution", tooltip="Show the reference solution of the exercise"
    ),
    Binding("i", "interrupt", "Interrupt", tooltip="Stop the running cell and the queued ones"),
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
    ("help", HELP),
]

_NAMES = {"question_mark": "?", "escape": "escape", "up": "↑", "down": "↓", "enter": "enter"}


def help_first(bindings: dict[str, Any]) -> dict[str, Any]:
    """Screens' active bindings with `?` first: the footer is cut at 80 columns, and `?`
    is the key that shows all the others."""
    first = {k: v for k, v in bindings.items() if v.binding.action in ("help", "app.help")}
    return {**first, **{k: v for k, v in bindings.items() if k not in first}}


def key_names(binding: Binding) -> list[str]:
    return [_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(",")]


def rows() -> list[tuple[str, str, str]]:
    """(keys, where, what) for every binding: the README table and the help overlay."""
    return [
        (" / ".join(key_names(b)), where, b.tooltip or b.description)
        for where, bindings in TABLES
        for b in bindings
    ]


def markdown_table() -> str:
    lines = ["| Key | Where | Action |", "|---|---|---|"]
    for keys, where, what in rows():
        shown = " / ".join(f"`{k}`" for k in keys.split(" / "))
        lines.append(f"| {shown} | {where} | {what} |")
    return "\n".join(lines)
