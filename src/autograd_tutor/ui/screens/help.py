"""The help overlay: every key, made from the same tables as the bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from autograd_tutor.ui import keys
from autograd_tutor.ui.i18n import _


def key_table() -> Table:
    table = Table(expand=True, show_edge=False, box=None, padding=(0, 1))
    table.add_column(_("Key"), style="bold", no_wrap=True)
    table.add_column(_("Where"), style="dim", no_wrap=True)
    table.add_column(_("Action"), ratio=1)
    last = None
    for key_names, where, what in keys.rows():
        table.add_row(Text(key_names), Text(where if where != last else ""), Text(what))
        last = where
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = keys.HELP

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(
                _("Keys — escape closes; c opens the command palette (every action by name)"),
                id="help-title",
                markup=False,
            )
            with VerticalScroll(id="help-scroll"):
                yield Static(key_table(), id="help-table")

    def action_close(self) -> None:
        self.dismiss(None)
