"""What the relay lets through from the cell process: the protocol's order, enforced.

Learner code shares the cell process with the worker's loop, so it can write frames to the
relay's channel (fd 3) itself, with the request id it finds on the stack. `frames.parse_frame`
checks each frame's fields; the gate checks that it comes when the protocol says it may:

* `started`, then one `done`, only for the running request's id; `done` is held until the
  cell's loop answers a `ping` with its nonce, which proves the loop is back reading
  requests. A forged `done` followed by an endless loop never answers it: the session ends
  instead of showing "ok" and blaming the next cell's timeout.
* `inspect`/`graph` answers only to a question the client asked, in its order.
* `plot` frames only while a cell runs (a background thread's plot between cells is dropped),
  counted with the cell's output against one budget per request, and at most
  MAX_PLOT_KEYS figures per cell.

Anything else breaks the protocol (`Broken`): the relay kills the cell process and ends the
session as `crashed` with the plain cause `frames.PROTOCOL_BROKEN`.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from autograd_tutor.core.runner.shared.frames import (
    Answer,
    CellFrame,
    Done,
    PlotFrame,
    Pong,
    ProtocolViolation,
    Started,
    parse_frame,
)
from autograd_tutor.core.runner.shared.payloads import MAX_PLOT_KEYS
from autograd_tutor.core.runner.shared.protocol import DEFAULT_TIMEOUT, PONG_SECONDS

# All the frames one request may send the client (stream text and plots together). The
# learner's output limit caps the text within it; a live plot (redrawn every 100 ms at
# most by the cell) rarely needs more than a few MB. Past it, plots stop updating: the
# relay keeps only the last frame of each figure (HELD_BUDGET in all) and sends those
# before `done`, and the outcome says its output was truncated.
OUTPUT_BUDGET = 32 * 1024 * 1024
HELD_BUDGET = 8 * 1024 * 1024


class Broken(Exception):
    """The cell broke the protocol; the message says how."""


@dataclass
class Running:
    """The cell in flight."""

    id: Any
    deadline: float
    out_cap: int
    timeout: float = DEFAULT_TIMEOUT
    started: bool = False
    interrupt_held: bool = False
    sent: int = 0  # bytes of the cell's text forwarded (out_cap)
    forwarded: int = 0  # bytes of every frame forwarded (OUTPUT_BUDGET)
    truncated: bool = False
    timed_out: bool = False
    pending: dict[str, str] = field(default_factory=dict)
    last_flush: float = 0.0
    plot_keys: set[str] = field(default_factory=set)
    held_figures: dict[str, bytes] = field(default_factory=dict)  # key -> its last frame
    held: Done | None = None  # the `done` waiting for its pong
    nonce: str = ""
    pong_deadline: float = 0.0

    def hold(self, done: Done) -> dict[str, Any]:
        """Keep `done` until the cell's loop proves it is back: the ping to send it."""
        self.held = done
        self.nonce = secrets.token_hex(8)
        self.pong_deadline = time.monotonic() + PONG_SECONDS
        return {"op": "ping", "nonce": self.nonce}

    def plot(self, key: str, data: bytes) -> bytes | None:
        """The plot frame to send now; None when it is over the budget (then each figure's
        last frame is held for the end, within HELD_BUDGET)."""
        if self.spend(len(data)):
            return data
        held = self.held_figures
        room = HELD_BUDGET - sum(map(len, held.values())) + len(held.get(key, b""))
        if len(data) <= room:
            held[key] = data
        return None

    def last_figures(self) -> list[bytes]:
        figures, self.held_figures = list(self.held_figures.values()), {}
        return figures

    def spend(self, size: int) -> bool:
        """Count a frame of `size` bytes against the budget; False when it is spent."""
        if self.forwarded + size > OUTPUT_BUDGET:
            self.truncated = True
            return False
        self.forwarded += size
        return True


class CellGate:
    """The relay's checks on the cell's frames, in the order the protocol allows them."""

    def __init__(self) -> None:
        self.asked: deque[str] = deque()  # `inspect`/`graph` ops sent, answers not yet back

    def admit(self, message: dict[str, Any], run: Running | None) -> CellFrame | None:
        """The frame to act on; None to drop it quietly; Broken when it breaks the protocol."""
        frame = parse_frame(message)
        if isinstance(frame, ProtocolViolation):
            raise Broken(frame.detail)
        if isinstance(frame, PlotFrame):
            return self._plot(frame, run)
        if isinstance(frame, Answer):
            if run is not None or not self.asked or self.asked[0] != frame.ev:
                raise Broken(f"an {frame.ev} answer nobody asked for")
            self.asked.popleft()
            return frame
        if isinstance(frame, Pong):
            if run is None or run.held is None or frame.nonce != run.nonce:
                raise Broken("a pong nobody asked for")
            return frame
        if run is None:
            raise Broken(f"a {type(frame).__name__.lower()} when no cell runs")
        if frame.id != run.id:
            raise Broken(f"a frame for request {frame.id}, not the running {run.id}")
        if run.held is not None:
            raise Broken("a second done" if isinstance(frame, Done) else "a frame after done")
        if isinstance(frame, Started) == run.started:
            raise Broken("a second start" if run.started else "a done before the start")
        return frame

    def _plot(self, frame: PlotFrame, run: Running | None) -> PlotFrame | None:
        if run is None or frame.id != run.id or not run.started or run.held is not None:
            return None  # a background thread's figure, between cells: not this cell's
        if frame.key not in run.plot_keys:
            if len(run.plot_keys) >= MAX_PLOT_KEYS:
                run.truncated = True
                return None
            run.plot_keys.add(frame.key)
        return frame
