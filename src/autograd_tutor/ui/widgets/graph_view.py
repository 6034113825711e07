"""The autograd graph of one tensor, drawn as a text tree (`core.graphtext.render_graph`).

The graph dict comes from `Session.graph(name)`; the renderer gives (text, style tag)
lines and this widget maps the tags to theme-aware component styles, so that leaves
(where `.grad` lands) and the learner's intermediate results look different from plain
operations, and the node asked about stands out. Deep graphs scroll both ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.widget import Widget

from autograd_tutor.core.graphtext import Line, render_graph
from autograd_tutor.core.safe_text import one_line
from autograd_tutor.ui.i18n import N_, _
from autograd_tutor.ui.text import label

# Style tags produced by render_graph -> our component classes.
TAGS = ("op", "leaf", "nonleaf", "highlight", "plain")
FRESH = N_("fresh session: no variables yet")  # the note of `LessonState.session_restarted`


class GraphLines(Widget):
    """The tree itself: styled lines, resolved at render time so a theme change applies."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"graph-view--{tag}" for tag in TAGS}

    DEFAULT_CSS = """
    GraphLines {
        width: auto;
        height: auto;
    }
    GraphLines > .graph-view--op {
        color: $text-muted;
    }
    GraphLines > .graph-view--nonleaf {
        color: $accent;
        text-style: bold;
    }
    GraphLines > .graph-view--leaf {
        color: $success;
    }
    GraphLines > .graph-view--highlight {
        text-style: reverse bold;
    }
    GraphLines > .graph-view--plain {
        color: $text-muted;
        text-style: italic;
    }
    """

    separator = "\n"

    def __init__(self, lines: list[Line] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Line] = list(lines or [])

    def set_lines(self, lines: list[Line]) -> None:
        self.lines = lines
        # layout=True: the width and height follow the text, so the container scrolls.
        self.refresh(layout=True)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ignore", end="")
        for i, (line, tag) in enumerate(self.lines):
            if i:
                text.append(self.separator)
            name = f"graph-view--{tag}" if tag in TAGS else "graph-view--op"
            text.append(line, style=self.get_component_rich_style(name))
        return text


class GraphLegend(GraphLines):
    """One line naming the styles, drawn with the same styles (it is a GraphLines)."""

    separator = "  "

    DEFAULT_CSS = """
    GraphLegend {
        height: 1;
        margin-bottom: 1;
    }
    """

    def __init__(self) -> None:
        # Words, not just colours: the legend must also read on a monochrome terminal.
        super().__init__(
            [
                (_("key:"), "plain"),
                (_("your variable"), "nonleaf"),
                (_("operation"), "op"),
                (_("leaf: .grad lands here"), "leaf"),
                (_("selected"), "highlight"),
            ],
            id="graph-legend",
        )


class GraphView(ScrollableContainer):
    """A titled, scrollable autograd graph. API: `show_graph(graph, highlight=None)`."""

    DEFAULT_CSS = """
    GraphView {
        height: 1fr;
        min-height: 5;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    GraphView:focus {
        border: round $primary;
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = _("autograd graph")
        self._lines = GraphLines()
        self.graph: dict[str, Any] = {}
        self.highlight: str | None = None

    def compose(self) -> ComposeResult:
        yield GraphLegend()
        yield self._lines

    def on_mount(self) -> None:
        if not self.graph:
            self._lines.set_lines([(_("pick a tensor to see the graph behind it"), "plain")])

    def show_graph(self, graph: Mapping[str, Any], highlight: str | None = None) -> None:
        """Draw `graph` (from `Session.graph(name)`); `highlight` is a variable name or node id."""
        self.graph = dict(graph)
        if self.graph.get("note") == FRESH:  # the state's words, in the learner's language
            self.graph["note"] = _(FRESH)
        self.highlight = highlight
        root = self.graph.get("root")
        self.border_title = (
            _("autograd graph of {name}").format(name=label(root)) if root else _("autograd graph")
        )
        if not self.graph.get("nodes") and not self.graph.get("note"):
            what = one_line(root) if root else _("this value")
            lines: list[Line] = [(_("{name}: no graph to show").format(name=what), "plain")]
        else:
            lines = render_graph(self.graph, highlight)
        self._lines.set_lines(lines)
        self.scroll_home(animate=False)

    @property
    def lines(self) -> list[Line]:
        """The (text, style tag) lines shown: handy for tests and plain-text export."""
        return list(self._lines.lines)
