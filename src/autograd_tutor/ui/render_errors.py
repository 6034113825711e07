"""A cell that failed, drawn: its error with the traceback at lesson lines and the
catalogue's explanation, and a session that died (time limit, crash, memory)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.syntax import Syntax
from rich.text import Text

from autograd_tutor.core.results import CellError, CellResult, Explanation
from autograd_tutor.core.safe_text import clean
from autograd_tutor.ui import keys, notebook_view
from autograd_tutor.ui.i18n import N_, _
from autograd_tutor.ui.state import LessonState


def again() -> str:
    """Words, not a constant: the language can change while the app runs."""
    return _("run the cells above again ({key}: run up to here)").format(key=keys.RUN_UPTO)


def error(error: CellError, ls: LessonState, dark: bool) -> list[RenderableType]:
    title = Text(f" {clean(error.type)}: ", style="bold white on dark_red")
    title.append(clean(error.message), style="bold white on dark_red")
    title.append(" ", style="on dark_red")
    parts: list[RenderableType] = [title]
    if error.line and ls.lesson.places is not None:
        where = notebook_view.where(ls.lesson, error.line)
        parts.append(Text(_("at {place}").format(place=where), style="red"))
    elif error.line:
        parts.append(Text(_("at line {line} of the lesson").format(line=error.line), style="red"))
    trace = error.traceback
    if trace:
        # The lesson's full path only makes lines long; its name says the same.
        trace = trace.replace(f'"{ls.lesson.path}"', f'"{ls.lesson.path.name}"')
        trace = _without_last_line(trace, error.type)
    if trace.strip():
        parts.append(Text(clean(trace.rstrip("\n")), style="dim"))
    if error.explanation is not None:
        parts.extend(explanation(error.explanation, dark))
    return parts


def _without_last_line(trace: str, kind: str) -> str:
    """The traceback without its closing `Type: message` line: the title above says it."""
    lines = trace.rstrip("\n").split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i] == kind or lines[i].startswith(f"{kind}: "):
            return "\n".join(lines[:i])
    return "\n".join(lines)


def explanation(found: Explanation, dark: bool) -> list[RenderableType]:
    parts: list[RenderableType] = [Text(f"💡 {clean(found.title)}", style="bold cyan")]
    for label, text in (
        (N_("What happened"), found.what),
        (N_("Why"), found.why),
        (N_("Fix"), found.fix),
    ):
        if text:
            line = Text(_(label) + _(": "), style="bold")
            line.append(clean(text.strip()))
            parts.append(line)
    if found.snippet.strip():
        parts.append(
            Syntax(
                found.snippet.strip("\n"),
                "python",
                background_color="default",
                theme="monokai" if dark else "default",
                word_wrap=True,
            )
        )
    return parts


def dead(result: CellResult) -> list[RenderableType]:
    status = result.status
    cause = clean(result.cause or "")
    if status == "timeout" and not cause:
        # Stopped by SIGINT at the time limit: the session and its variables are still there.
        return [
            Text(
                "⏱ "
                + _(
                    "The cell ran past its time limit and was stopped. "
                    "Your variables are still there."
                ),
                style="bold yellow",
            )
        ]
    what = {
        "timeout": "⏱ "
        + _("The cell ran past its time limit and did not stop, so its session was ended"),
        "crashed": "💥 " + _("The session crashed"),
        "memory": "🧠 " + _("The cell ran out of memory"),
    }[status]
    parts: list[RenderableType] = [
        Text(what + (_(": ") + _(cause) if cause else _(".")), style="bold red")
    ]
    if result.advice:
        parts.append(
            Text(
                clean(_(result.advice)) + " " + _("(press {key})").format(key=keys.RESTART),
                style="yellow",
            )
        )
    if status != "memory" or result.cause:
        parts.append(
            Text(
                _("The next cell starts a fresh session: {again}.").format(again=again()),
                style="yellow",
            )
        )
    return parts
