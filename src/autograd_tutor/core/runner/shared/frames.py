"""The worker's event frames, typed and checked at one edge: `parse_frame`.

Learner code runs in the cell process and can write anything to its channel (fd 3): a
`done` with a string where a list belongs, a NaN, a lone surrogate, a graph of a million
nodes. So every frame that comes from the cell is hostile input. The relay (the first
process outside the cell) parses each one here before it acts on it, and the client parses
what the relay forwards again (defence in depth: a frame is small, a check is cheap).

`parse_frame(dict)` answers a typed frame, or a `ProtocolViolation` that says what was
wrong. Typed frames keep only the fields the protocol names, with their types checked,
strings made encodable (a lone surrogate becomes its `\\udXXX` escape) and sizes capped:
plot points and series, graph nodes and edges, tensor rows. A cap is drawn with a note, as
a flood of output is (`points_capped` on a plot; `truncated` and `note` on a graph).

Pure standard library: the cell, the relay and the client all import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autograd_tutor.core.runner.shared.fieldcheck import (
    Bad,
    as_dict,
    boolean,
    listed,
    number,
    obj,
    short,
    text,
    whole,
)
from autograd_tutor.core.runner.shared.payloads import (
    MAX_TENSOR_ROWS,
    checked_graph,
    checked_plot,
    checked_row,
)

# What the cell process may send in one frame, checked on the length prefix before the body
# is read: a figure at its caps (20,000 points) is under 1 MB of JSON, a `done` with its
# texts clipped by the cell (execute.py) well under that. The relay once took 900 MB to
# parse one 29 MiB frame; at this size the worst is a few dozen MB.
CELL_FRAME_LIMIT = 2 * 1024 * 1024
MAX_WARNINGS = 20
MAX_STEPS = 16  # a trial's later steps: a wrong answer and its check
PROTOCOL_BROKEN = "the cell broke the worker's protocol"

CELL_STATUSES = ("ok", "error", "memory", "timeout")
ENDED_STATUSES = ("crashed", "timeout", "memory")
STREAMS = ("stdout", "stderr")


@dataclass(frozen=True)
class ProtocolViolation:
    """A frame that breaks the protocol; `detail` says how, in a few words."""

    detail: str

    @property
    def cause(self) -> str:
        return f"{PROTOCOL_BROKEN} ({self.detail})"


@dataclass(frozen=True)
class Started:
    id: int

    def to_json(self) -> dict[str, Any]:
        return {"ev": "started", "id": self.id}


@dataclass(frozen=True)
class Done:
    """A cell's end. `output_truncated` and `namespace_kept` are the relay's to set."""

    id: int
    status: str
    value: str | None
    error: dict[str, Any] | None
    warnings: tuple[dict[str, Any], ...]
    warnings_hidden: int
    seconds: float
    output_truncated: bool = False
    namespace_kept: bool = False
    # A trial (`run` with `fork`, how `check` tries wrong answers): the later steps' ends,
    # each a done's fields without an id, checked as a done's are.
    then: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        frame: dict[str, Any] = {
            "ev": "done",
            "id": self.id,
            "status": self.status,
            "value": self.value,
            "error": self.error,
            "warnings": list(self.warnings),
            "seconds": self.seconds,
            "output_truncated": self.output_truncated,
        }
        if self.warnings_hidden:
            frame["warnings_hidden"] = self.warnings_hidden
        if self.namespace_kept:
            frame["namespace_kept"] = True
        if self.then:
            frame["then"] = list(self.then)
        return frame


@dataclass(frozen=True)
class PlotFrame:
    id: int
    plot: dict[str, Any]  # checked and capped: docs/architecture.md's plot dict

    @property
    def key(self) -> str:
        return self.plot["key"]

    def to_json(self) -> dict[str, Any]:
        return {"ev": "plot", "id": self.id, "plot": self.plot}


@dataclass(frozen=True)
class Answer:
    """The answer to an `inspect` or `graph` op: `tensors` or `graph`, or `failed`."""

    ev: str
    id: int
    body: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"ev": self.ev, "id": self.id, **self.body}


@dataclass(frozen=True)
class Pong:
    """The cell's loop is back and reading: the answer to the relay's `ping` after `done`."""

    nonce: str

    def to_json(self) -> dict[str, Any]:
        return {"ev": "pong", "nonce": self.nonce}


@dataclass(frozen=True)
class Stream:
    """Relay to client only: the cell's fd 1/2, read and capped by the relay."""

    id: int
    name: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"ev": "stream", "id": self.id, "name": self.name, "text": self.text}


@dataclass(frozen=True)
class Ended:
    """Relay to client only: the session is gone, and why."""

    id: int | None
    status: str
    cause: str
    output_truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "ev": "ended",
            "id": self.id,
            "status": self.status,
            "cause": self.cause,
            "output_truncated": self.output_truncated,
        }


@dataclass(frozen=True)
class Hello:
    pid: int
    sandbox: dict[str, Any] = field(default_factory=dict)


CellFrame = Started | Done | PlotFrame | Answer | Pong
RelayFrame = CellFrame | Stream | Ended | Hello


def parse_frame(
    message: Any, *, from_relay: bool = False
) -> CellFrame | RelayFrame | ProtocolViolation:
    """The frame `message` typed, or what is wrong with it. With `from_relay`, the events
    only the relay makes (stream, ended, hello) are allowed too; `pong` is not."""
    try:
        if not isinstance(message, dict):
            raise Bad("a frame that is not an object")
        kind = message.get("ev")
        kind = kind if isinstance(kind, str) else None
        parse = _CELL.get(kind) if kind else None
        if from_relay and kind:
            parse = _RELAY.get(kind, parse) if kind != "pong" else None
        if parse is None:
            raise Bad(f"an unknown frame {short(kind)}")
        return parse(message)
    except Bad as bad:
        return ProtocolViolation(str(bad))
    except RecursionError:
        return ProtocolViolation("a frame nested too deep")


# -- the frames -------------------------------------------------------------------------


def _started(m: dict[str, Any]) -> Started:
    return Started(whole(m, "id"))


def _done(m: dict[str, Any]) -> Done:
    end = _end(m)
    steps = listed(m, "then", MAX_STEPS, "steps") if "then" in m else []
    return Done(
        id=whole(m, "id"),
        **end,
        output_truncated=boolean(m, "output_truncated", default=False),
        namespace_kept=boolean(m, "namespace_kept", default=False),
        then=tuple(_step(as_dict(s, "a step")) for s in steps),
    )


def _end(m: dict[str, Any]) -> dict[str, Any]:
    """A cell's end: the fields a done and each step of a trial share, checked."""
    status = text(m, "status")
    if status not in CELL_STATUSES:
        raise Bad(f"a done with status {short(status)}")
    error = m.get("error")
    warnings = listed(m, "warnings", MAX_WARNINGS, "warnings")
    return {
        "status": status,
        "value": text(m, "value", none=True),
        "error": None if error is None else _error(obj(m, "error")),
        "warnings": tuple(_warning(as_dict(w, "a warning")) for w in warnings),
        "warnings_hidden": whole(m, "warnings_hidden", default=0),
        "seconds": number(m, "seconds"),
    }


def _step(m: dict[str, Any]) -> dict[str, Any]:
    end = _end(m)
    step = {**end, "warnings": list(end["warnings"])}
    if not step["warnings_hidden"]:
        del step["warnings_hidden"]
    return step


def _error(e: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": text(e, "type"),
        "message": text(e, "message"),
        "line": whole(e, "line", none=True),
        "traceback": text(e, "traceback"),
        "explanation": None,  # found by the client's core (lessonrun.explained), never sent
    }


def _warning(w: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "category": text(w, "category"),
        "message": text(w, "message"),
        "line": whole(w, "line", none=True),
    }
    count = whole(w, "count", default=1)
    if count < 1:
        raise Bad("a warning seen fewer than once")
    if count > 1:
        entry["count"] = count
    return entry


def _plot(m: dict[str, Any]) -> PlotFrame:
    return PlotFrame(whole(m, "id"), checked_plot(obj(m, "plot")))


def _answer(m: dict[str, Any]) -> Answer:
    kind = m["ev"]
    if "failed" in m:
        return Answer(kind, whole(m, "id"), {"failed": text(m, "failed")})
    if kind == "inspect":
        rows = listed(m, "tensors")[:MAX_TENSOR_ROWS]
        tensors = [checked_row(as_dict(r, "a row")) for r in rows]
        return Answer(kind, whole(m, "id"), {"tensors": tensors})
    return Answer(kind, whole(m, "id"), {"graph": checked_graph(obj(m, "graph"))})


def _pong(m: dict[str, Any]) -> Pong:
    return Pong(text(m, "nonce"))


def _stream(m: dict[str, Any]) -> Stream:
    name = text(m, "name")
    if name not in STREAMS:
        raise Bad(f"a stream named {short(name)}")
    return Stream(whole(m, "id"), name, text(m, "text"))


def _ended(m: dict[str, Any]) -> Ended:
    status = text(m, "status")
    if status not in ENDED_STATUSES:
        raise Bad(f"an end with status {short(status)}")
    return Ended(
        whole(m, "id", none=True, default=None),
        status,
        text(m, "cause"),
        boolean(m, "output_truncated", default=False),
    )


def _hello(m: dict[str, Any]) -> Hello:
    return Hello(whole(m, "pid"), obj(m, "sandbox"))


_CELL = {
    "started": _started,
    "done": _done,
    "plot": _plot,
    "inspect": _answer,
    "graph": _answer,
    "pong": _pong,
}
_RELAY = {"stream": _stream, "ended": _ended, "hello": _hello}
