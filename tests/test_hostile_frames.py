"""The cell's channel is hostile input: learner code that writes frames to fd 3 itself.

One test per case of the issue ("Sandbox III", 3): the real worker (host, relay, cell) and
the real client, the frames written by learner code as an attacker would. A frame that
breaks the protocol ends its session as `crashed` with a plain cause, and the next cell
runs in a fresh session; caps hold whatever the cell sends.
"""

from __future__ import annotations

import time

import pytest

from autograd_tutor.core.graphtext import render_graph
from autograd_tutor.core.lessonrun import LessonRun
from autograd_tutor.core.parser import parse_text
from autograd_tutor.core.results import CellOutcome
from autograd_tutor.core.runner.client import Session, WorkerHost
from autograd_tutor.core.runner.relay.gate import HELD_BUDGET, OUTPUT_BUDGET
from autograd_tutor.core.runner.shared.frames import PROTOCOL_BROKEN
from autograd_tutor.core.runner.shared.payloads import MAX_GRAPH_NODES, MAX_PLOT_KEYS
from autograd_tutor.core.runner.shared.protocol import PONG_SECONDS
from autograd_tutor.core.runqueue import CellFinished, GraphReady, RunCell, RunQueue
from tests.hostile.frames import forge

pytestmark = pytest.mark.timeout(120)


def assert_broke(outcome: CellOutcome, session: Session) -> None:
    assert outcome.status == "crashed", outcome
    assert outcome.cause and outcome.cause.startswith(PROTOCOL_BROKEN), outcome.cause
    assert outcome.session_ended and not session.alive


def next_cell_runs(worker_host: WorkerHost) -> None:
    fresh = worker_host.new_session()
    try:
        assert fresh.run("40 + 2").value == "42"
    finally:
        fresh.close()


BROKEN = {
    # The cases: each crashed `run` (exit 3, no records) and hung the app's cell.
    "done-with-text-for-a-list": "_frame(_done(warnings='not a list'))",
    "done-with-no-fields": "_frame({'ev': 'done'})",
    "plot-of-none": "_frame({'ev': 'plot', 'id': _rid(), 'plot': None})",
    # An extra `done`: the cell's own comes after it. Every later record shifted one cell.
    "extra-done": "_frame(_done())",
    "extra-done-with-nan": "_frame(_done(seconds=float('nan')))",
    "done-for-the-next-request": "_frame(_done(id=_rid() + 1))",
    "stream-from-the-cell": "_frame({'ev': 'stream', 'id': _rid(), 'name': 'stdout', 'text': 'x'})",
    "unknown-kind": "_frame({'ev': 'surprise', 'id': _rid()})",
    "an-answer-nobody-asked": "_frame({'ev': 'inspect', 'id': 0, 'tensors': []})",
    "not-json": "_write(b'\\x00\\x00\\x00\\x03{{{')",
    # json.loads guesses UTF-32 from these bytes; the confined relay has no such codec.
    "looks-like-utf-32": "_write(_st.pack('>I', 8) + b'\\x00\\x00\\x00{    ')",
}


@pytest.mark.parametrize("code", BROKEN.values(), ids=BROKEN.keys())
def test_a_frame_that_breaks_the_protocol_ends_the_session(
    worker_host: WorkerHost, session: Session, code: str
) -> None:
    outcome = session.run(forge(code + "\nprint('after')"))
    assert_broke(outcome, session)
    next_cell_runs(worker_host)


def test_a_forged_done_then_an_endless_loop_is_no_ok(
    worker_host: WorkerHost, session: Session
) -> None:
    """It showed "ok" at once, and the next cell reported a timeout after 90 s."""
    started = time.monotonic()
    outcome = session.run(forge("_frame(_done())\nwhile True: pass"), timeout=60)
    assert_broke(outcome, session)
    assert "did not come back" in (outcome.cause or "")
    assert time.monotonic() - started < PONG_SECONDS + 15  # not the cell's 60 s timeout
    started = time.monotonic()
    next_cell_runs(worker_host)
    assert time.monotonic() - started < 30


def test_stream_frames_cannot_bypass_the_output_cap(session: Session) -> None:
    """200 stream frames of 1 MiB each once gave 200 MiB of stdout, not truncated."""
    flood = "text = 'x' * (1 << 20)\nfor _ in range(200):\n"
    flood += "    _frame({'ev': 'stream', 'id': _rid(), 'name': 'stdout', 'text': text})"
    outcome = session.run(forge(flood), output_limit=64 * 1024)
    assert_broke(outcome, session)
    assert len(outcome.stdout) <= 64 * 1024


def test_plot_frames_count_against_the_output_budget(session: Session) -> None:
    """Figures of 1 MiB each, 40 of them: past the budget they stop, and the outcome says
    its output was truncated; the session lives on."""
    flood = "title = 'x' * (1 << 20)\nfor k in range(40):\n"
    flood += "    _frame({'ev': 'plot', 'id': _rid(), 'plot': {'key': str(k), 'title': title,"
    flood += " 'xlabel': '', 'ylabel': '', 'logy': False, 'series': [], 'dropped': 0}})"
    outcome = session.run(forge(flood))
    assert outcome.status == "ok" and session.alive
    assert outcome.output_truncated
    assert 0 < sum(len(p.title) for p in outcome.plots) <= OUTPUT_BUDGET + HELD_BUDGET


def test_past_the_budget_a_figure_still_ends_as_drawn_last(session: Session) -> None:
    """A live figure redrawn past the budget stops updating, but its last frame comes."""
    redraw = "big = 'x' * (1 << 20)\nfor i in range(50):\n"
    redraw += "    _frame({'ev': 'plot', 'id': _rid(), 'plot': {'key': 'live',"
    redraw += " 'title': f'{i} {big}', 'series': []}})"
    outcome = session.run(forge(redraw))
    assert outcome.status == "ok" and outcome.output_truncated
    assert [p.title.split()[0] for p in outcome.plots] == ["49"]


def test_figures_per_cell_are_capped(session: Session) -> None:
    keys = "for k in range(400):\n"
    keys += "    _frame({'ev': 'plot', 'id': _rid(), 'plot': {'key': str(k), 'series': []}})"
    outcome = session.run(forge(keys))
    assert outcome.status == "ok" and outcome.output_truncated
    assert len(outcome.plots) == MAX_PLOT_KEYS


def test_a_29_mib_frame_is_refused_on_its_length(worker_host: WorkerHost, session: Session) -> None:
    """The relay (outside the cgroup) once took 900 MB for one such frame. Only the length
    prefix is written: a relay that waited for the body would wait for ever."""
    started = time.monotonic()
    outcome = session.run(forge("_write(_st.pack('>I', 29 << 20))\nimport time\ntime.sleep(60)"))
    assert_broke(outcome, session)
    assert "over the limit" in (outcome.cause or "")
    assert time.monotonic() - started < 20
    next_cell_runs(worker_host)


def _graph_of(nodes: int) -> str:
    """Learner code that makes the cell's own loop answer `graph` with `nodes` nodes."""
    return forge(
        "import autograd_tutor.core.runner.cell.introspect as _i\n"
        f"_n = {nodes}\n"
        "_i.graph = lambda ns, name, **kw: {'root': name, 'truncated': False,\n"
        "    'nodes': [{'id': f'n{k}', 'label': 'o', 'kind': 'op'} for k in range(_n)],\n"
        "    'edges': [[f'n{k}', f'n{k + 1}'] for k in range(_n - 1)]}\n"
    )


def test_a_graph_of_many_nodes_is_capped_with_a_note(session: Session) -> None:
    assert session.run(_graph_of(20_000)).status == "ok"
    graph = session.graph("x")
    assert len(graph["nodes"]) == MAX_GRAPH_NODES and graph["truncated"]
    assert f"the first {MAX_GRAPH_NODES} are drawn" in graph["note"]
    started = time.monotonic()
    lines = render_graph(graph)  # what the app's `g` draws: quick, and says it was cut
    assert time.monotonic() - started < 2
    assert any(f"the first {MAX_GRAPH_NODES}" in text for text, _ in lines)


LESSON = """---
title: Hostile
id: hostile
---

# Hostile

```python
x = 1
```

```python
{forged}
```

```python
40 + 2
```
"""


def test_the_app_gets_its_cell_back_and_its_graph_capped(worker_host: WorkerHost, tmp_path) -> None:
    """In the app the cell stayed "running" for good, and a million-node graph hung it."""
    code = forge("_frame({'ev': 'plot', 'id': _rid(), 'plot': None})")
    text = LESSON.replace("{forged}", code)
    path = tmp_path / "01-hostile.en.md"
    path.write_text(text)
    lesson = parse_text(text, path)
    queue = RunQueue(LessonRun(worker_host, lesson))
    heard: list[object] = []
    queue.subscribe(heard.append)
    try:
        queue.submit(*(RunCell(cell, cell.source) for cell in lesson.cells))
        deadline = time.monotonic() + 90
        while sum(isinstance(e, CellFinished) for e in heard) < 3:
            assert time.monotonic() < deadline, heard
            time.sleep(0.05)
        finished = [e for e in heard if isinstance(e, CellFinished)]
        assert [e.result.status for e in finished] == ["ok", "crashed", "ok"]
        assert finished[1].result.cause.startswith(PROTOCOL_BROKEN)
        assert finished[2].result.value == "42" and finished[2].result.fresh_session
        queue.submit(RunCell(lesson.cells[0], _graph_of(1_000_000)))
        queue.fetch_graph("x")
        while not any(isinstance(e, GraphReady) for e in heard):
            assert time.monotonic() < deadline + 60, heard[-3:]
            time.sleep(0.05)
        graph = next(e for e in heard if isinstance(e, GraphReady)).graph
        assert len(graph["nodes"]) <= MAX_GRAPH_NODES and graph.get("note")
    finally:
        queue.close()


def test_lone_surrogates_from_repr_and_warnings_are_text(session: Session) -> None:
    """No forging at all: a `__repr__` or a warning that returns "\\ud800"."""
    code = (
        "import warnings\n"
        "class Odd:\n"
        "    def __repr__(self):\n"
        "        return '\\ud800'\n"
        "warnings.warn('\\udfff')\n"
        "print(Odd())\n"
        "Odd()"
    )
    outcome = session.run(code)
    assert outcome.status == "ok", outcome
    assert outcome.value == "\\ud800"
    assert outcome.warnings[0].message == "\\udfff"
    for text in (outcome.value, outcome.warnings[0].message, outcome.stdout):
        text.encode("utf-8")  # what crashed `run` with UnicodeEncodeError


def test_a_capped_figure_is_drawn_with_a_note() -> None:
    """The relay's cap on a figure's points, as the plot widget and `run` draw it."""
    from autograd_tutor.core.plotdata import notes, prepare
    from autograd_tutor.core.runner.shared.frames import PlotFrame, parse_frame
    from autograd_tutor.core.runner.shared.payloads import MAX_PLOT_POINTS

    points = [[i, i] for i in range(MAX_PLOT_POINTS + 500)]
    series = [{"label": "a", "kind": "line", "points": points}]
    frame = parse_frame({"ev": "plot", "id": 1, "plot": {"key": "k", "series": series}})
    assert isinstance(frame, PlotFrame)
    assert len(frame.plot["series"][0]["points"]) == MAX_PLOT_POINTS
    assert "500 point(s) over the limit" in " ".join(notes(prepare(frame.plot, 80)))
