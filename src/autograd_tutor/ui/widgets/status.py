"""The top line: where the learner is, and the state of the worker and its sandbox."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from autograd_tutor.core.safe_text import one_line
from autograd_tutor.ui.i18n import N_, _

# The worker's states as the app and the sandbox report say them (English, the msgids).
_FIXED = (
    N_("worker: starting (importing torch)…"),
    N_("worker: ready"),
    N_("sandbox: full"),
    N_("sandbox: not applied"),
)


def worded(status: str) -> str:
    """The worker's status line in the learner's language; names of protections, and an
    error's own text, stay as they are."""
    if status in _FIXED:
        return _(status)
    for prefix, words in (
        ("sandbox: partial (", N_("sandbox: partial ({missing})")),
        ("worker failed: ", N_("worker failed: {error}")),
    ):
        if status.startswith(prefix):
            rest = status.removeprefix(prefix)
            if prefix.endswith("("):
                rest = rest.removesuffix(")").replace("no ", _("no") + " ")
                return _(words).format(missing=rest)
            return _(words).format(error=rest)
    return status


class StatusBar(Horizontal):
    def __init__(self, where: str = "") -> None:
        super().__init__(classes="status-bar")
        self._where = where

    def compose(self) -> ComposeResult:
        yield Static(one_line(self._where), classes="status-where", markup=False)
        yield Static("", classes="status-worker", markup=False)

    def on_mount(self) -> None:
        # The app's reactive changes from a thread (through call_from_thread); watching it
        # keeps every screen's bar in step without the app knowing the screens.
        self.watch(self.app, "worker_status", self._show_worker)

    def _show_worker(self, status: str) -> None:
        found = self.query(".status-worker").results(Static)
        worker = next(found, None)
        if worker is None:
            return  # a bar being composed or torn down while a screen switches
        worker.update(worded(status))
        worker.set_class(status.startswith("sandbox: partial"), "-partial")
        worker.set_class(status.startswith("worker failed"), "-failed")
        worker.tooltip = getattr(self.app, "sandbox_details", "") or None

    def reword(self) -> None:
        """The language changed: the worker's line in the new one."""
        self._show_worker(getattr(self.app, "worker_status", ""))

    def set_where(self, where: str) -> None:
        self._where = where
        # One line of a fixed width (the bar's, less the worker's): no layout for a cursor
        # move, which would arrange the whole lesson.
        self.query_one(".status-where", Static).update(one_line(where), layout=False)
