"""The learning-rate explorer of the lesson that opens it.

The lesson's front matter says what is fitted (`ExplorerSetup`, docs/authoring.md); the
learner picks a set of learning rates and a number of epochs, and `core.explorer.Explorer`
turns the choice into code that fits the lesson's model once per rate. The code runs
in the screen's OWN worker session (never the lesson's namespace), in a thread worker so the
UI stays live, and the loss curves of all rates come back as one log-scaled plot; a table
gives the final parameters and loss per rate, with diverged rates marked.
"""

from __future__ import annotations

import math
import threading
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import ActiveBinding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from autograd_tutor.core.explorer import Explorer, parse_finals
from autograd_tutor.core.lesson import ExplorerSetup
from autograd_tutor.core.results import CellOutcome
from autograd_tutor.core.runner.client import Session, WorkerError, WorkerHost
from autograd_tutor.core.safe_text import clean, one_line
from autograd_tutor.ui import keys
from autograd_tutor.ui.i18n import N_, _
from autograd_tutor.ui.widgets.plot_view import PlotView

# Seconds. 6 rates x 5000 epochs (the most Explorer allows) is 30,000 tiny steps: ~25 s on
# a slow 2-core machine.
RUN_TIMEOUT = 90.0
LR_WIDTH, VALUE_WIDTH, VERDICT_WIDTH = 6, 11, 12  # the finals table's columns
NO_SETUP = N_(
    "This lesson has no learning-rate explorer: its front matter sets none "
    "(`explorer:`, docs/authoring.md)."
)
INTERRUPT_EVERY = 0.1  # seconds between interrupts of a run a newer one replaces


def _number(value: Any) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "?"
    return f"{x:.4g}" if math.isfinite(x) else str(x)


class ExplorerScreen(Screen[None]):
    """Loss curves for several learning rates. Construct with the app's WorkerHost and the
    lesson's explorer setup (None: the lesson has none, and the screen says so)."""

    class PlotArrived(Message):
        """A plot event from the running code (posted from the thread worker)."""

        def __init__(self, plot: dict[str, Any]) -> None:
            super().__init__()
            self.plot = plot

    class RunFinished(Message):
        """The run's outcome (`Session.run`'s), or why there is none."""

        def __init__(self, result: CellOutcome | None, error: str | None) -> None:
            super().__init__()
            self.result, self.error = result, error

    # Short descriptions (in keys.py with the app's other keys): all seven must fit the
    # footer of a 100-column terminal.
    BINDINGS: ClassVar[list[BindingType]] = list(keys.EXPLORER_SCREEN)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        # The footer's words in the learner's language (keys.py keeps them in English).
        return {key: keys.translated(active) for key, active in super().active_bindings.items()}

    DEFAULT_CSS = """
    ExplorerScreen {
        layout: vertical;
    }
    ExplorerScreen > #explorer-intro {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    ExplorerScreen > #explorer-choice {
        height: auto;
        padding: 0 1;
    }
    ExplorerScreen > PlotView {
        height: 1fr;
        min-height: 10;
    }
    ExplorerScreen > #explorer-finals {
        height: auto;
        max-height: 9;
    }
    /* As app.tcss: a compact footer leaves a group's label no room after it. The screen
       says it too, for apps without that stylesheet. */
    ExplorerScreen Footer.-compact FooterLabel {
        margin: 0 1 0 0;
    }
    ExplorerScreen Footer.-compact KeyGroup.-compact {
        padding-left: 0;
    }
    ExplorerScreen > #explorer-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, host: WorkerHost, setup: ExplorerSetup | None) -> None:
        super().__init__()
        self.host = host
        self.explorer = Explorer(setup) if setup is not None else None
        self.finals: dict[str, dict[str, Any]] = {}
        self.runs = 0  # completed runs: tests wait on it
        self.running = False
        # (rates, epochs) of the last run asked for: the choice line says when it differs.
        self._ran: tuple[tuple[float, ...], int] | None = None
        self._session: Session | None = None
        # One run on the session at a time: a rerun interrupts the old run, then waits here.
        self._session_lock = threading.Lock()
        self._closed = False

    def compose(self) -> ComposeResult:
        intro = self.explorer.setup.intro if self.explorer else _(NO_SETUP)
        yield Static(intro, id="explorer-intro", markup=False)
        yield Static(id="explorer-choice")
        yield PlotView(id="explorer-plot")
        table: DataTable[Any] = DataTable(id="explorer-finals", cursor_type="none")
        # Fixed widths: the table does not reflow when results arrive (and snapshots of
        # it do not depend on when the header was last repainted).
        names = self.explorer.param_names if self.explorer else ()
        table.add_column("lr", width=LR_WIDTH)
        for label in (_("final {name}").format(name=name) for name in (*names, "loss")):
            table.add_column(label, width=VALUE_WIDTH)
        table.add_column("", width=VERDICT_WIDTH)
        # Not focusable: its own enter/arrow bindings would swallow the explorer's keys.
        table.can_focus = False
        yield table
        yield Static(id="explorer-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.explorer is None:
            return
        self._show_choice()
        self.action_rerun()

    def on_unmount(self) -> None:
        # The session is a forked process: never leave it behind. Closing its socket also
        # wakes a thread still waiting in run(). No lock: a run may hold it for seconds.
        # The worker checks _closed after creating a session, so one of the two closes it.
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            session.interrupt()
            session.close()

    # -- keys --------------------------------------------------------------------------

    def action_step(self, direction: int) -> None:
        if self.explorer:
            self.explorer.step_rate(direction)
            self._show_choice()

    def action_toggle(self) -> None:
        if self.explorer:
            self.explorer.toggle()
            self._show_choice()

    def action_epochs(self, factor: float) -> None:
        if self.explorer:
            self.explorer.change_epochs(factor)
            self._show_choice()

    def action_rerun(self) -> None:
        explorer = self.explorer
        if explorer is None:
            return
        self.running = True
        self._ran = (tuple(sorted(explorer.rates)), explorer.epochs)
        self._status(
            _("running {rates} rate(s) x {epochs} epochs…").format(
                rates=len(explorer.rates), epochs=explorer.epochs
            )
        )
        self._show_choice()
        self._run(explorer.code())

    def action_close(self) -> None:
        self.dismiss(None)

    # -- the run -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="explorer", exit_on_error=False)
    def _run(self, code: str) -> None:
        # exclusive=True marks the previous run's worker cancelled, but a thread cannot be
        # stopped from outside: the old run still holds the session until its cell ends.
        worker = get_current_worker()
        if not self._take_session():
            return
        try:
            if worker.is_cancelled:  # an even newer run was asked for meanwhile
                return
            session = self._session
            if session is None or not session.alive:
                # Our own namespace: the explorer never touches the lesson's variables.
                session = self._session = self.host.new_session()
                if self._closed:  # unmounted while the session was starting
                    session.close()
                    return
            if worker.is_cancelled:
                return

            def forward(event: dict[str, Any]) -> None:
                if event.get("ev") == "plot" and not worker.is_cancelled:
                    self.post_message(self.PlotArrived(event["plot"]))

            result = session.run(code, timeout=RUN_TIMEOUT, on_event=forward)
            if result.status != "ok":
                # An interrupt can land between `no_grad().__enter__` and the `with` body,
                # leaving grad mode off for good in that namespace (seen in tests): never
                # reuse a namespace after a run that did not finish.
                self._session = None
                session.close()
        except (WorkerError, OSError) as exc:
            if not worker.is_cancelled:
                self.post_message(self.RunFinished(None, str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - say so on screen rather than hang "running"
            self.post_message(self.RunFinished(None, f"{type(exc).__name__}: {exc}"))
            return
        finally:
            self._session_lock.release()
        if not worker.is_cancelled:  # a newer run replaced this one: its results win
            self.post_message(self.RunFinished(result, None))

    def _take_session(self) -> bool:
        """Wait for the session, interrupting the run that holds it (a newer choice wins).

        Interrupting again on every try closes the race where the old run had not sent its
        code yet when we first asked: the relay ignores an interrupt while nothing runs.
        """
        while not self._session_lock.acquire(timeout=INTERRUPT_EVERY):
            if self._closed:
                return False
            session = self._session
            if session is not None:
                session.interrupt()
        if self._closed:
            self._session_lock.release()
            return False
        return True

    @on(PlotArrived)
    def _plot_arrived(self, message: PlotArrived) -> None:
        self.query_one(PlotView).show_plot(message.plot)

    @on(RunFinished)
    def _run_finished(self, message: RunFinished) -> None:
        self.running = False
        result = message.result
        if result is None:
            self._status(_("the worker failed: {error}").format(error=message.error), error=True)
            return
        for plot in result.plots:
            view = self.query_one(PlotView)
            view.show_plot(plot.figure)
            view.flush()  # the final picture now, not a throttle interval later
        if result.status != "ok":
            why = (result.error.message if result.error else "") or result.cause or result.status
            self._status(_("the run failed: {why}").format(why=why), error=True)
            return
        self.finals = parse_finals(result.stdout)
        self._fill_table()
        self.runs += 1
        self._status(_("done: change the rates or epochs, then enter to run again"))
        self._show_choice()

    # -- drawing -----------------------------------------------------------------------

    def _fill_table(self) -> None:
        table: DataTable[Any] = self.query_one("#explorer-finals", DataTable)
        table.clear()
        names = self.explorer.param_names if self.explorer else ()
        for lr in sorted(self.finals, key=float):
            values = self.finals[lr]
            diverged = bool(values.get("diverged"))
            verdict = (
                Text(_("diverged") + " ✗", style="bold red")
                if diverged
                else Text(_("converging") + " ✓", style="green")
            )
            style = "red" if diverged else ""
            table.add_row(
                Text(one_line(lr), style=style),
                *(Text(_number(values.get(name)), style=style) for name in (*names, "loss")),
                verdict,
                key=lr,
            )

    def _show_choice(self) -> None:
        ex = self.explorer
        if ex is None:
            return
        text = Text(_("rates:") + " ")
        for rate in sorted(set(ex.setup.rates) | set(ex.rates) | {ex.cursor}):
            chosen = rate in ex.rates
            label = f"{'●' if chosen else '○'} {rate:g}"
            style = "bold" if chosen else "dim"
            if rate == ex.cursor:
                style += " reverse"
            text.append(f" {label} ", style=style)
        text.append("   " + _("epochs: {count}").format(count=ex.epochs), style="bold")
        if (tuple(sorted(ex.rates)), ex.epochs) != self._ran:
            text.append("   " + _("(changed: enter to run)"), style="italic")
        self.query_one("#explorer-choice", Static).update(text)

    def _status(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#explorer-status", Static)
        status.update(Text(clean(message), style="bold red" if error else ""))
