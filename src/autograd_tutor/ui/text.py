"""Hostile text where Textual reads markup.

The one sanitiser is `core/safe_text.py` (control characters made visible, lengths bound);
the app draws cell output, names and lesson text as rich `Text`, never as markup. A few
Textual surfaces read a plain string as markup whatever we do (a widget's border title, a
Markdown widget's source): for those, `label` escapes the markup after the sanitiser, and
`markdown` makes a lesson's Markdown inert for the terminal while keeping it Markdown.
"""

from __future__ import annotations

from rich.markup import escape

from autograd_tutor.core.safe_text import one_line, visible


def label(text: object) -> str:
    """A name from a cell or a lesson for a border title: one line, visible, no markup."""
    return escape(one_line(text))


def markdown(text: str) -> str:
    """A lesson's Markdown (prose, hints, questions): control characters shown, not obeyed."""
    return visible(text)
