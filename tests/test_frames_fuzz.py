"""A property-based fuzzer of the cell's frames (Hypothesis), against the real relay and
client: learner code writes the generated frames to fd 3 (valid ones, wrong types, missing
fields, extra `done`s, NaN, lone surrogates, unknown kinds, frames too long, frames cut
short, bytes that are no frame), and whatever it writes:

* the client answers a typed `CellOutcome`, never an exception;
* a frame that breaks the protocol ends the session as `crashed` with the plain cause;
* every request gets exactly one outcome: the next cell's is its own, in a fresh session
  when the last one broke.

Hypothesis generates and shrinks the cases (the well-kept library for this: a failing case
comes back as the smallest frames that fail). Bounded: a few dozen examples per run.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_tutor.core.results import CellOutcome
from autograd_tutor.core.runner.client import WorkerHost
from autograd_tutor.core.runner.shared import protocol
from autograd_tutor.core.runner.shared.frames import (
    CELL_FRAME_LIMIT,
    PROTOCOL_BROKEN,
    ProtocolViolation,
    parse_frame,
)
from tests.hostile.frames import forge

TEXT = st.one_of(st.text(max_size=8), st.sampled_from(["\ud800", "a\udfffb", "x" * 300]))
NUMBER = st.one_of(st.integers(-(2**64), 2**64), st.floats())  # NaN and Infinity too
JSON = st.recursive(
    st.none() | st.booleans() | NUMBER | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=10,
)
KINDS = ["started", "done", "plot", "stream", "inspect", "graph", "pong", "ended", "hello"]
IDS = st.sampled_from(["@ID", "@ID", "@NEXT", 0, -1, "1", None, 2.5])

DONE = {
    "ev": "done",
    "id": "@ID",
    "status": "ok",
    "value": "'forged'",
    "error": None,
    "warnings": [{"category": "UserWarning", "message": "m", "line": 3}],
    "seconds": 0.5,
}
FIGURE = {
    "key": "k",
    "title": "t",
    "xlabel": "",
    "ylabel": "",
    "logy": False,
    "series": [{"label": "loss", "kind": "line", "points": [[0, 1.0], [1, 0.5]]}],
    "dropped": 0,
}
PLOT = {"ev": "plot", "id": "@ID", "plot": FIGURE}
GRAPH = {"ev": "graph", "id": 0, "graph": {"root": "x", "nodes": [], "edges": []}}
TEMPLATES = [DONE, PLOT, GRAPH, {"ev": "started", "id": "@ID"}, {"ev": "pong", "nonce": "n"}]
MISSING = object()


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid frame with one field (maybe nested) dropped or replaced by any JSON value."""
    frame = json.loads(json.dumps(draw(st.sampled_from(TEMPLATES))))
    target = frame["plot"] if "plot" in frame and draw(st.booleans()) else frame
    key = draw(st.sampled_from(sorted(target)))
    value = draw(st.one_of(st.just(MISSING), JSON, IDS))
    if value is MISSING:
        del target[key]
    else:
        target[key] = value
    return frame


FRAME = st.one_of(
    st.sampled_from(TEMPLATES),
    mutated(),
    st.fixed_dictionaries(
        {"ev": st.one_of(st.sampled_from(KINDS), TEXT), "id": IDS},
        optional={"status": JSON, "plot": JSON, "text": JSON, "name": JSON, "graph": JSON},
    ),
    JSON.filter(lambda v: not isinstance(v, dict)),  # a frame that is no object
)
WRITE = st.one_of(
    FRAME.map(lambda frame: {"json": frame}),
    st.binary(max_size=24).map(lambda body: {"body": base64.b64encode(body).decode()}),
    st.sampled_from([29 << 20, CELL_FRAME_LIMIT + 1]).map(lambda n: {"header": n}),
    st.sampled_from([CELL_FRAME_LIMIT - 200, CELL_FRAME_LIMIT + 10]).map(lambda n: {"big": n}),
    st.binary(min_size=1, max_size=6).map(lambda b: {"cut": base64.b64encode(b).decode()}),
)

CELL = """
import base64 as _b
def _fill(v):
    if v == "@ID":
        return _rid()
    if v == "@NEXT":
        return _rid() + 1
    if isinstance(v, list):
        return [_fill(x) for x in v]
    if isinstance(v, dict):
        return {k: _fill(x) for k, x in v.items()}
    return v
for _w in _j.loads(SPEC):
    if "json" in _w:
        _frame(_fill(_w["json"]))
    elif "body" in _w:  # a length that is right, then bytes that are no JSON object
        _body = _b.b64decode(_w["body"])
        _write(_st.pack(">I", len(_body)) + _body)
    elif "header" in _w:  # a length past the limit, and no body at all
        _write(_st.pack(">I", _w["header"]))
    elif "cut" in _w:  # a frame cut short: its length says more than ever comes
        _write(_st.pack(">I", 64) + _b.b64decode(_w["cut"]))
    else:
        _frame(_done(value="x" * _w["big"]))
"""


class Sessions:
    """The session the next example runs in: the same one while it lives, else a fresh one."""

    def __init__(self, host: WorkerHost) -> None:
        self.host = host
        self.session = host.new_session()

    def current(self):  # noqa: ANN201 - a Session
        if not self.session.alive:
            self.session.close()
            self.session = self.host.new_session()
        return self.session


@pytest.fixture(scope="module")
def sessions(worker_host: WorkerHost):  # noqa: ANN201
    held = Sessions(worker_host)
    yield held
    held.session.close()


@pytest.mark.timeout(170)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(writes=st.lists(WRITE, min_size=1, max_size=3))
def test_the_relay_and_the_client_survive_any_frames(
    sessions: Sessions, writes: list[dict[str, Any]]
) -> None:
    session = sessions.current()
    code = forge(f"SPEC = {json.dumps(writes)!r}\n{CELL}")
    outcome = session.run(code, timeout=2)
    assert isinstance(outcome, CellOutcome)
    if outcome.status == "crashed":
        assert outcome.cause and outcome.cause.startswith(PROTOCOL_BROKEN), outcome.cause
        assert outcome.session_ended and not session.alive
    else:  # only what the protocol allows went through: a figure, a stale frame dropped
        assert outcome.status == "ok", outcome
        assert outcome.value is None and session.alive
    json.dumps([p.figure for p in outcome.plots], allow_nan=False).encode()
    after = sessions.current().run("40 + 2")  # its own outcome, not one left over
    assert after.status == "ok" and after.value == "42", after


@settings(max_examples=400, deadline=None)
@given(frame=st.one_of(FRAME, mutated()), from_relay=st.booleans())
def test_parse_frame_answers_a_frame_or_a_violation(frame: Any, from_relay: bool) -> None:
    """The edge itself, fast: never an exception, and what passes encodes as strict JSON."""
    parsed = parse_frame(frame, from_relay=from_relay)
    if isinstance(parsed, ProtocolViolation):
        assert parsed.cause.startswith(PROTOCOL_BROKEN)
        parsed.cause.encode("utf-8")
        return
    body = json.dumps(parsed.to_json(), allow_nan=False, ensure_ascii=False)
    body.encode("utf-8")  # no lone surrogate left
    assert parse_frame(protocol.decode(body.encode()), from_relay=from_relay) == parsed
