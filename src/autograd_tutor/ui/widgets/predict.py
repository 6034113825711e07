"""Predict, then run: the small input that asks a predict cell's question before it runs,
the guess beside the truth under the cell afterwards, and the list's prediction count.

The guess is judged twice, on purpose: against the lesson's answer key when it is given
(what progress records: `check` proves the key is what torch computes), and against what
the cell really did when it is drawn (the learner may have edited the cell since).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Markdown, Static

from autograd_tutor.core.lesson import Lesson, Prediction, PredictKind
from autograd_tutor.core.predict import judge, matches_key, read, show
from autograd_tutor.core.progress import Progress, lesson_key
from autograd_tutor.ui.i18n import _
from autograd_tutor.ui.state import CellState, LessonState
from autograd_tutor.ui.text import markdown

if TYPE_CHECKING:
    from autograd_tutor.ui.screens.lesson import LessonScreen


def example(kind: PredictKind) -> str:
    """What an answer of `kind` looks like, in the learner's language."""
    return {
        "number": _("a number, e.g. 2 or 0.5"),
        "tensor": _("a list of numbers, e.g. [1, 2]"),
        "shape": _("a shape, e.g. (2, 3)"),
        "bool": _("True or False"),
        "raises": _("yes (it raises an error) or no"),
    }[kind]


class PredictPrompt(ModalScreen[str | None]):
    """Asks the question; dismissed with the guess (as typed), or None to run without one."""

    # Local, not in keys.TABLES: escape is the only key here, and the box says what it does.
    BINDINGS = [Binding("escape", "skip", "Run without a prediction", show=False)]
    DEFAULT_CSS = """
    PredictPrompt { align: center middle; }
    #predict-box {
        width: 76; max-width: 95%; height: auto;
        border: round $accent; background: $surface; padding: 0 1;
    }
    #predict-title { text-style: bold; }
    #predict-question { margin: 0; padding: 0; }
    #predict-help { color: $text-muted; }
    #predict-problem { color: $error; }
    """

    def __init__(self, prediction: Prediction) -> None:
        super().__init__()
        self.prediction = prediction

    def compose(self) -> ComposeResult:
        with Vertical(id="predict-box"):
            yield Static(_("Predict, then run"), id="predict-title", markup=False)
            yield Markdown(markdown(self.prediction.question), id="predict-question", open_links=False)
            yield Input(placeholder=example(self.prediction.kind), id="predict-input")
            yield Static("", id="predict-problem", markup=False)
            yield Static(
                _("enter: answer and run · escape: run without a prediction"),
                id="predict-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        guess = event.value.strip()
        if read(self.prediction.kind, guess) is None:
            # Unreadable is not wrong: ask again, saying what an answer looks like.
            problem = _("Write {example}.").format(example=example(self.prediction.kind))
            self.query_one("#predict-problem", Static).update(problem)
            return
        self.dismiss(guess)

    def action_skip(self) -> None:
        self.dismiss(None)


def ask_first(screen: LessonScreen, cs: CellState) -> bool:
    """True when the cell waits for a prediction: the prompt is open, and the cell runs
    once it closes. A prediction is asked once; one in progress counts as made."""
    state = screen.state
    prediction = state.lesson.prediction(cs.cell.index)
    if prediction is None or prediction.name in state.guesses:
        return False
    progress: Progress = screen.tutor.progress
    made = progress.predictions(state.progress_key).get(prediction.name)
    if made is not None:
        state.guesses[prediction.name] = made[0]
        return False

    def answered(guess: str | None) -> None:
        # "": skipped for this visit (asked again next time: progress keeps no empty guess).
        state.guesses[prediction.name] = guess or ""
        if guess:
            right = matches_key(prediction, guess)
            progress.record_prediction(state.progress_key, prediction.name, guess, right)
        if screen.is_attached:
            screen.action_run_cell()

    screen.app.push_screen(PredictPrompt(prediction), answered)
    return True


def header_mark(cs: CellState, ls: LessonState) -> Text:
    """In a predict cell's header: it asks before it runs."""
    if ls.lesson.prediction(cs.cell.index) is None:
        return Text()
    return Text("· 🔮 " + _("predict, then run") + " ", style="magenta")


def verdict(cs: CellState, ls: LessonState) -> list[RenderableType]:
    """Under a predict cell that has run: the guess beside the truth, and why."""
    prediction = ls.lesson.prediction(cs.cell.index)
    result = cs.result
    if prediction is None or cs.running or result is None or result.status == "skipped":
        return []
    guess = ls.guesses.get(prediction.name, "")
    found = judge(prediction.kind, prediction.tol, guess, result.status, result.value)
    if found.truth is not None:
        right = found.right
        said = _("the cell: {truth}").format(truth=_said(found.truth))
    else:
        # The cell gave nothing to compare (an edit broke it, a cell above was not run):
        # the lesson's answer key stands in, `check` having proved it.
        right = matches_key(prediction, guess)
        answer = _said(show(prediction.kind, prediction.answer))
        said = _("the lesson's answer: {answer}").format(answer=answer)
    line = Text("🔮 ")
    if not guess:
        line.append(_("You ran it without a prediction.") + "   " + said)
    else:
        line.append(_("Your prediction: {guess}").format(guess=guess), style="bold")
        line.append("   " + said + "   ")
        if right:
            line.append("✓ " + _("right"), style="bold green")
        else:
            line.append("✗ " + _("not quite"), style="bold yellow")
    return [line, RichMarkdown(markdown(prediction.explanation))]


def _said(truth: str) -> str:
    return {"raises": _("raises an error"), "no error": _("no error")}.get(truth, truth)


def progress_marks(lesson: Lesson, progress: Progress) -> tuple[str, str] | None:
    """The lesson list's mark: predictions made and how many were right, in words and in
    short for a narrow terminal (`🔮 1/1`); None for a lesson that asks for none."""
    names = {p.name for p in lesson.predictions}
    if not names:
        return None
    made = {
        n: right
        for n, (_guess, right) in progress.predictions(lesson_key(lesson)).items()
        if n in names
    }
    words = _("{made}/{total} predictions ({right} right)").format(
        made=len(made), total=len(names), right=sum(made.values())
    )
    return words, f"🔮 {len(made)}/{len(names)}"
