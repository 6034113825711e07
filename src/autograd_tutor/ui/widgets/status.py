"""The top line: where the learner is, and the state of the worker and its sandbox."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


class StatusBar(Horizontal):
    def __init__(self, where: str = "") -> None:
        super().__init__(classes="status-bar")
        self._where = where

    def compose(self) -> ComposeResult:
        yield Static(self._where, classes="status-where", markup=False)
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
        worker.update(status)
        worker.set_class(status.startswith("sandbox: partial"), "-partial")
        worker.set_class(status.startswith("worker failed"), "-failed")
        worker.tooltip = getattr(self.app, "sandbox_details", "") or None

    def set_where(self, where: str) -> None:
        self._where = where
        self.query_one(".status-where", Static).update(where)
