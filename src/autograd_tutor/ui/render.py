"""Turn a cell's state into rich renderables: header line, code, and output.

A finished cell is drawn from its `CellResult`, explanations included: the core found them
(with the lesson's own catalogue), the app only draws them. Cell output is never markup: every string from the worker goes through `text.clean` into
a `Text`, so a cell printing `[bold]` or an escape sequence shows exactly those characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text

from autograd_tutor.core.results import CellResult
from autograd_tutor.core.safe_text import clean, one_line, visible
from autograd_tutor.ui import keys, notebook_view, render_errors
from autograd_tutor.ui.i18n import N_, _, ngettext
from autograd_tutor.ui.state import CellState, LessonState
from autograd_tutor.ui.widgets import predict

ROLE_LABELS = {
    "code": "",
    "exercise": N_("exercise"),
    "check": N_("check"),
    "solution": N_("solution"),
}
DEAD = (N_("timeout"), N_("crashed"), N_("memory"))  # the statuses of a run that died
# Fixed words of the core and of the state that this module shows: worded in the learner's
# language here (the core knows nothing of the UI); listed so that extraction finds them.
THEIRS = (
    N_("the worker stopped answering; its session was ended"),
    N_("the worker process disappeared"),
    N_("the class's worker is restarting: run the cell again in a few seconds"),
    N_("the cell did not stop after an interrupt and was killed"),
    N_("the cell process closed its channel and was killed"),
    N_(
        "The cell ran out of memory. The session may still hold most of it: "
        "restart the session before going on."
    ),
    N_("the check's assertion failed"),
    N_("solved in an earlier session"),
    # `LessonState.judge`'s words for a check that ended in one of DEAD.
    N_("the check could not run (timeout)"),
    N_("the check could not run (crashed)"),
    N_("the check could not run (memory)"),
)
LIVE_LINES = 60


def code(source: str, first_line: int, dark: bool) -> Syntax:
    # Line numbers are the lesson file's, the ones tracebacks and warnings speak of.
    return Syntax(
        visible(source) or " ",  # a raw escape in a lesson's code is shown, not obeyed
        "python",
        theme="monokai" if dark else "default",
        line_numbers=True,
        start_line=first_line,
        background_color="default",
        word_wrap=True,
    )


def header(cs: CellState, ls: LessonState, show_times: bool) -> Text:
    cell = cs.cell
    text = Text(f"[{cell.index + 1}] ", style="bold")
    label = ROLE_LABELS[cell.role]
    if label:
        text.append(f"{_(label)} {one_line(cell.exercise)} ", style="bold italic")
    if cell.line:
        text.append(f"{notebook_view.cell_label(ls.lesson, cell)} ", style="dim")
    if cs.edited:
        text.append("· " + _("edited") + " ", style="italic")
        if cs.stale:  # the lesson file changed since the learner edited this cell
            text.append(_("(from older lesson code) "), style="italic yellow")
    if cell.skipped:
        text.append("· " + _("not run by run-all") + " ", style="dim")
    text.append_text(predict.header_mark(cs, ls))
    if cell.role == "solution":
        text.append("· " + _("for reading: compare it with your answer"), style="dim")
        return text
    text.append("· ")
    text.append_text(_status(cs, show_times))
    return text


def _status(cs: CellState, show_times: bool) -> Text:
    if cs.running:
        shown = f" {cs.elapsed:.1f} s" if show_times else ""
        return Text(
            "⏳ " + _("running{time} ({key}: interrupt)").format(time=shown, key=keys.INTERRUPT),
            style="bold yellow",
        )
    if cs.queued:
        return Text("… " + _("queued"), style="yellow")
    result = cs.result
    if result is None:
        return Text(_("not run yet"), style="dim")
    status = result.status
    took = f" {result.seconds:.2f} s" if show_times else ""
    if cs.cell.role == "check" and status in ("ok", "error") and not result.interrupted:
        return (
            Text("✓ " + _("solved") + took, style="bold green")
            if status == "ok"
            else Text("✗ " + _("not solved") + took, style="bold red")
        )
    if status == "ok":
        return Text("✓ " + _("ran") + took, style="green")
    if result.interrupted:
        return Text("■ " + _("interrupted") + took, style="bold yellow")
    if status == "error":
        kind = one_line(result.error.type) if result.error else _("error")
        if cs.cell.raises:
            return Text("✓ " + _("raised as expected: {kind}").format(kind=kind) + took, "yellow")
        return Text(f"✗ {kind}{took}", style="bold red")
    return Text(f"⚠ {_(status)}{took}", style="bold red")


@dataclass
class Output:
    """What goes under a cell's code, in three parts so that plot widgets sit between.

    `top`: streams, warnings, the value; `plots`: plot dicts for PlotViews (empty when
    they are drawn as text into `top` instead); `bottom`: the error with its explanation,
    interrupts, a dead session, the exercise line.
    """

    top: RenderableType | None
    plots: list[dict[str, Any]]
    bottom: RenderableType | None


def output(
    cs: CellState,
    ls: LessonState,
    dark: bool = True,
    width: int = 80,
    widgets: bool = True,
    text_height: int = 15,
) -> Output:
    """Live stream and plots while running, else the finished result.

    `widgets=False` (a terminal too small for a plot widget) draws the plots as text.
    """
    top: list[RenderableType] = []
    bottom: list[RenderableType] = []
    plots: list[dict[str, Any]] = []
    if cs.running:
        top.extend(_streams(list(cs.live), LIVE_LINES))
        plots = list(cs.live_plots.values())
    elif cs.result is not None:
        top.extend(_result_top(cs.result))
        plots = [plot.figure for plot in cs.result.plots]
        bottom.extend(_result_bottom(cs.result, ls, dark))
    saved = None if cs.running else notebook_view.saved_output(ls.lesson, cs.cell, cs.result)
    if saved is not None:
        top.append(saved)
    if not widgets:
        top.extend(_plot(plot, width, text_height) for plot in plots)
        plots = []
    bottom.extend(predict.verdict(cs, ls))
    if cs.cell.role == "exercise":
        bottom.append(_exercise_line(cs, ls))
    return Output(Group(*top) if top else None, plots, Group(*bottom) if bottom else None)


def _streams(live: list[tuple[str, str]], last: int | None = None) -> list[RenderableType]:
    # Join consecutive pieces of the same stream first: `\r` must see the whole line.
    merged: list[tuple[str, str]] = []
    for name, piece in live:
        if merged and merged[-1][0] == name:
            merged[-1] = (name, merged[-1][1] + piece)
        else:
            merged.append((name, piece))
    text = Text()
    for name, piece in merged:
        text.append(clean(piece), style="red" if name == "stderr" else "")
    text.rstrip()
    if last is not None:
        # While a cell runs only its last lines are drawn: repainting a long output five
        # times a second would slow the UI, and the end is what is news.
        lines = text.split("\n")
        if len(lines) > last:
            skipped = Text(
                "… "
                + _("{count} earlier lines (all shown when the cell ends)").format(
                    count=len(lines) - last
                )
                + "\n",
                style="dim italic",
            )
            text = skipped + Text("\n").join(lines[-last:])
    return [text] if text else []


def _result_top(result: CellResult) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if result.fresh_session:
        parts.append(
            Text(
                "ℹ "
                + _(
                    "The previous session had ended, so this cell ran in a fresh one: variables "
                    "from earlier cells are gone. To get them back, {again}."
                ).format(again=render_errors.again()),
                style="italic cyan",
            )
        )
    parts.extend(_streams([("stdout", result.stdout), ("stderr", result.stderr)]))
    if result.output_truncated:
        parts.append(Text("… " + _("output truncated (too much printed)"), style="dim italic"))
    for warning in result.warnings:
        where = " (" + _("line {line}").format(line=warning.line) + ")" if warning.line else ""
        times = f" (×{warning.count})" if warning.count > 1 else ""
        parts.append(
            Text(
                f"⚠ {clean(warning.category)}: {clean(warning.message)}{where}{times}",
                style="yellow",
            )
        )
    if result.warnings_hidden:
        hidden = result.warnings_hidden
        parts.append(
            Text(
                "… "
                + ngettext(
                    "{count} more warning not shown", "{count} more warnings not shown", hidden
                ).format(count=hidden),
                style="dim italic",
            )
        )
    if result.value is not None:
        value = Text("⇒ ", style="bold green")
        value.append(clean(result.value))
        parts.append(value)
    return parts


def _result_bottom(result: CellResult, ls: LessonState, dark: bool) -> list[RenderableType]:
    parts: list[RenderableType] = []
    error = result.error
    if error is not None and error.interrupted:
        parts.append(
            Text(
                "■ "
                + _(
                    "Interrupted at line {line}. What the cell assigned before that is kept."
                ).format(line=error.line or "?"),
                style="bold yellow",
            )
        )
    elif error is not None and result.role == "check" and error.type == "AssertionError":
        message = clean(error.message or _("the check's assertion failed"))
        parts.append(Text("✗ " + _("Not solved: {message}").format(message=message), "bold red"))
    elif error is not None:
        parts.extend(render_errors.error(error, ls, dark))
    if result.status in DEAD:
        parts.extend(render_errors.dead(result))
    return parts


def _plot(plot: dict[str, Any], width: int, height: int) -> Text:
    """The text fallback: a plot drawn with characters, for terminals too small for PlotView."""
    try:
        from autograd_tutor.core.plotdata import to_text

        return Text(clean(to_text(plot, width=max(20, min(width, 100)), height=height)))
    except Exception:  # noqa: BLE001 - a plot that cannot be drawn is named, not fatal
        return Text(f"[plot: {clean(str(plot.get('title') or 'untitled'))}]", style="dim")


def _exercise_line(cs: CellState, ls: LessonState) -> Text:
    name = str(cs.cell.exercise)
    exercise = ls.lesson.exercise(name)
    hints = len(exercise.hints) if exercise else 0
    shown = ls.hints_shown.get(name, 0)
    verdict = cs.verdict
    text = Text()
    if verdict is None:
        text.append(
            "✎ "
            + _("Exercise: edit ({edit}), then run ({run}): the check runs after it.").format(
                edit=keys.EDIT, run=keys.RUN
            ),
            style="bold cyan",
        )
    elif verdict["solved"]:
        text.append("★ " + _("Solved!"), style="bold green")
        text.append(" " + _("Move on when you are ready (n: next lesson)."), style="green")
    else:
        text.append("✗ " + _("Not solved yet"), style="bold red")
        message = clean(str(verdict.get("message") or "")).strip()
        if message:
            text.append(_(": ") + _(message), style="red")
    if not (verdict and verdict["solved"]):
        extra = []
        if hints:
            extra.append(
                _("{key}: hint ({shown}/{total} shown)").format(
                    key=keys.HINT, shown=shown, total=hints
                )
            )
        if exercise and exercise.solution and name not in ls.solutions_shown:
            extra.append(_("{key}: show the solution").format(key=keys.SOLUTION))
        if extra:
            text.append("\n" + " · ".join(extra), style="dim")
    return text
