"""One lesson's run queue: cells, graph requests and restarts, in order, off the caller's thread.

`LessonRun.run_cell` blocks until the cell is done, so whoever drives a lesson (the app's UI
thread) hands its work to this queue instead and hears back through typed events. Nothing
here knows Textual: the app subscribes a callable that turns events into its messages, and
the tests subscribe a list.

One thread at a time drains a queue (started on demand, gone when the queue is empty), so a
subscriber gets one lesson's events in order (but for QueueIdle: see there). Events are delivered on that thread: a
subscriber must not block, and must not call back into the queue but through `submit`,
`interrupt`, `restart` and `follow_graph` (thread-safe).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograd_tutor.core.lesson import CodeCell
from autograd_tutor.core.lessonrun import LessonRun, cell_result
from autograd_tutor.core.results import CellOutcome, CellResult
from autograd_tutor.core.runner.client import DEFAULT_TIMEOUT, WorkerError

# -- requests: what the caller asks for -----------------------------------------------


@dataclass(frozen=True)
class RunCell:
    """Run `code` as `cell` (the code is taken when asked: what the learner saw is what runs).
    An exercise cell brings its check cell: it runs right after, unless the exercise was
    interrupted or ended the session.

    `chain`: the index of the cell the learner asked for, when this request is part of
    running the cells above it first (`core.autorun`); `setup` marks those cells above. A
    setup cell that ends unexpectedly drops the rest of its chain (`ChainStopped`)."""

    cell: CodeCell
    code: str
    timeout: float = DEFAULT_TIMEOUT
    check: CodeCell | None = None
    chain: int | None = None
    setup: bool = False


@dataclass(frozen=True)
class FetchGraph:
    """The autograd graph of the variable `name`; queued because `Session.graph` reads the
    socket a running cell owns, so it waits for the cells asked for before it."""

    name: str


@dataclass(frozen=True)
class Restart:
    """A fresh session: no variables. Chosen, so the next result is not `fresh_session`."""


Request = RunCell | FetchGraph | Restart

# -- events: what the subscribers hear, in order ----------------------------------------


@dataclass
class LiveOutput:
    """A running cell's output so far: appended by the queue's thread, read by whoever draws
    it when it likes (the app on a timer, which throttles repaints however fast a cell
    prints). Appends and item assignment are atomic, so readers need no lock; they copy."""

    started: float = field(default_factory=time.monotonic)
    streams: list[tuple[str, str]] = field(default_factory=list)  # (stdout|stderr, text)
    plots: dict[str, dict[str, Any]] = field(default_factory=dict)  # latest figure per key


@dataclass(frozen=True)
class CellStarted:
    index: int
    live: LiveOutput  # the same object its CellStreamed/PlotDrawn pieces are appended to


@dataclass(frozen=True)
class CellStreamed:
    index: int
    stream: str  # stdout or stderr
    text: str


@dataclass(frozen=True)
class PlotDrawn:
    """A figure of the running cell, whole, as the worker sent it (at most every 100 ms)."""

    index: int
    plot: dict[str, Any]


@dataclass(frozen=True)
class CellFinished:
    """The result, explained by the core; `session_alive` False: the session ended with it."""

    index: int
    result: CellResult
    session_alive: bool


@dataclass(frozen=True)
class TensorsUpdated:
    """The namespace's tensors (`Session.inspect()`) after a cell; () when the session is gone."""

    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class GraphReady:
    """The graph of `name`, asked for or refreshed after a cell (a note when it cannot be read)."""

    name: str
    graph: dict[str, Any]


@dataclass(frozen=True)
class SessionRestarted:
    pass


@dataclass(frozen=True)
class ChainStopped:
    """A cell run first for `target` (`RunCell.setup`) failed unexpectedly at `index`, so the
    rest of the chain, the target included, was dropped: `dropped`."""

    index: int
    target: int
    dropped: tuple[int, ...]


@dataclass(frozen=True)
class QueueIdle:
    """The queue ran out of work. Work submitted since starts a new round, which ends with
    another QueueIdle: a subscriber reads `RunQueue.busy` to know where things stand."""


RunEvent = (
    CellStarted
    | CellStreamed
    | PlotDrawn
    | CellFinished
    | TensorsUpdated
    | GraphReady
    | SessionRestarted
    | ChainStopped
    | QueueIdle
)
Subscriber = Callable[[RunEvent], None]


@dataclass(frozen=True)
class Interruption:
    """What `interrupt` stopped: the running cell's index, and the queued cells it dropped."""

    running: int | None
    dropped: tuple[int, ...]


class RunQueue:
    """A lesson's queue of requests, drained in order through its `LessonRun`."""

    def __init__(self, run: LessonRun) -> None:
        self.run = run
        self._lock = threading.Lock()
        self._requests: deque[Request] = deque()
        self._draining = False
        self._closed = False
        self._running: RunCell | None = None
        self._subscribers: list[Subscriber] = []
        # The cells that ran as the lesson says (`CellResult.expected`) in `_ran_session`:
        # a new session (restart, crash, closed to save processes) has run none of them.
        self._ran: set[int] = set()
        self._ran_session: object = None
        # The tensor whose graph is open: refreshed after every cell. Written by the caller,
        # read by the queue's thread: a stale read costs one refresh, so no lock.
        self.followed_graph: str | None = None

    # -- the caller's side (any thread) --------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def submit(self, *requests: Request) -> None:
        with self._lock:
            self._requests.extend(requests)
            start = not self._draining and bool(self._requests)
            self._draining = self._draining or start
        if start:
            threading.Thread(target=self._drain, name="run-queue", daemon=True).start()

    def follow_graph(self, name: str | None) -> None:
        self.followed_graph = name

    def fetch_graph(self, name: str) -> None:
        self.submit(FetchGraph(name))

    def interrupt(self) -> Interruption:
        """Drop the queued cells and SIGINT the running one. Graph requests stay: they run
        no code, and a panel waits for them."""
        with self._lock:
            dropped = tuple(r.cell.index for r in self._requests if isinstance(r, RunCell))
            kept = [r for r in self._requests if isinstance(r, FetchGraph)]
            self._requests.clear()
            self._requests.extend(kept)
            running = self._running
        session = self.run.session
        if running is not None and session is not None:
            session.interrupt()
        return Interruption(running.cell.index if running else None, dropped)

    def restart(self) -> Interruption:
        stopped = self.interrupt()
        self.submit(Restart())
        return stopped

    def close(self) -> None:
        """The app is going: stop everything; the relay ends the cell process, and a thread
        waiting on it wakes up."""
        with self._lock:
            self._closed = True  # the thread starts nothing more, not even a new session
        self.interrupt()
        with self._lock:
            self._requests.clear()
        self.run.close()

    @property
    def pending(self) -> tuple[Request, ...]:
        with self._lock:
            return tuple(self._requests)

    @property
    def ran(self) -> frozenset[int]:
        """The cells that ran in the current session; none when it is gone or not begun."""
        session = self.run.session
        with self._lock:
            if session is None or not session.alive or session is not self._ran_session:
                return frozenset()
            return frozenset(self._ran)

    @property
    def busy(self) -> bool:
        """Work asked for and not done yet: a thread is draining the queue."""
        with self._lock:
            return self._draining

    # -- the queue's thread --------------------------------------------------------------

    def _emit(self, event: RunEvent) -> None:
        for subscriber in list(self._subscribers):
            subscriber(event)

    def _next(self) -> Request | None:
        """The next request; None (and the queue is idle) when there is none."""
        with self._lock:
            if not self._requests or self._closed:
                self._draining = False  # in the same lock as the check: a submit now drains
                return None
            request = self._requests.popleft()
            self._running = request if isinstance(request, RunCell) else None
            return request

    def _drain(self) -> None:
        try:
            while self._serve_next():
                pass
        except BaseException:
            with self._lock:  # a subscriber's bug must not leave the queue stuck as busy
                self._draining, self._running = False, None
            raise

    def _serve_next(self) -> bool:
        """Serve one request; False once the queue is empty and this thread is done."""
        request = self._next()
        if request is None:
            # Sent after the queue went idle, so work submitted meanwhile is already
            # another thread's, whose first events may come before this one: QueueIdle
            # means "look at `busy` again", not "the last event of the lesson".
            self._emit(QueueIdle())
            return False
        if isinstance(request, Restart):
            self.run.close()
            self.run.session = None  # a chosen restart is not a surprise `fresh_session`
            self._emit(SessionRestarted())
        elif isinstance(request, FetchGraph):
            self._emit(GraphReady(request.name, self._graph(request.name)))
        else:
            self._run_with_check(request)
        with self._lock:
            self._running = None
        return True

    def _run_with_check(self, request: RunCell) -> None:
        with self._lock:
            if self._closed:  # closed after this request left the queue: run nothing
                return
        result = self._run_one(request.cell, request.code, request.timeout)
        if request.setup and not result.interrupted and not result.expected:
            self._stop_chain(request)
        if request.check is not None and self._alive() and not result.interrupted:
            check = RunCell(request.check, request.check.source, request.timeout)
            with self._lock:
                self._running = check  # an interrupt now stops the check
            self._run_one(check.cell, check.code, check.timeout)
        # After the exercise and its check together: what changed is what the learner's
        # code changed, not what the check did after it.
        self._look()

    def _stop_chain(self, failed: RunCell) -> None:
        """Drop the queued rest of `failed`'s chain: its target needs what failed to run."""
        with self._lock:
            kept = [
                r
                for r in self._requests
                if not (isinstance(r, RunCell) and r.chain == failed.chain)
            ]
            dropped = tuple(
                r.cell.index
                for r in self._requests
                if isinstance(r, RunCell) and r.chain == failed.chain
            )
            self._requests.clear()
            self._requests.extend(kept)
        self._emit(ChainStopped(failed.cell.index, failed.chain or 0, dropped))

    def _alive(self) -> bool:
        session = self.run.session
        return session is not None and session.alive

    def _run_one(self, cell: CodeCell, code: str, timeout: float) -> CellResult:
        live = LiveOutput()
        index = cell.index
        self._emit(CellStarted(index, live))

        def on_frame(frame: dict[str, Any]) -> None:
            kind = frame.get("ev")
            if kind == "stream":
                piece = (str(frame.get("name", "stdout")), str(frame.get("text", "")))
                live.streams.append(piece)
                self._emit(CellStreamed(index, *piece))
            elif kind == "plot" and isinstance(frame.get("plot"), dict):
                live.plots[str(frame["plot"].get("key"))] = frame["plot"]
                self._emit(PlotDrawn(index, frame["plot"]))

        try:
            result = self.run.run_cell(cell, code, timeout=timeout, on_event=on_frame)
        except Exception as exc:  # noqa: BLE001 - a cell must end, never stay "running"
            # The host is gone or never started (WorkerError, OSError), or nobody foresaw
            # what happened: say so as a crash; the next cell gets a fresh session.
            cause = str(exc) if isinstance(exc, WorkerError | OSError) else type(exc).__name__
            self.run.close()
            seconds = time.monotonic() - live.started
            result = cell_result(cell, CellOutcome(status="crashed", cause=cause, seconds=seconds))
        self._note_ran(index, result)
        self._emit(CellFinished(index, result, self._alive()))
        return result

    def _note_ran(self, index: int, result: CellResult) -> None:
        session = self.run.session
        with self._lock:
            if session is not self._ran_session:
                self._ran, self._ran_session = set(), session
            if result.expected and not result.interrupted:
                self._ran.add(index)
            else:
                self._ran.discard(index)  # what it defines may be missing now

    def _look(self) -> None:
        """The inspector's rows, and the followed graph again: the cell may have changed both."""
        rows: list[dict[str, Any]] = []
        session = self.run.session
        if session is not None and session.alive:
            try:
                rows = session.inspect()
            except (WorkerError, OSError, EOFError):  # the session died meanwhile: no tensors
                rows = []
        self._emit(TensorsUpdated(tuple(rows)))
        followed = self.followed_graph
        if followed is not None:
            self._emit(GraphReady(followed, self._graph(followed)))

    def _graph(self, name: str) -> dict[str, Any]:
        empty: dict[str, Any] = {"root": name, "nodes": [], "edges": [], "truncated": False}
        session = self.run.session
        if session is None or not session.alive:
            return {**empty, "note": "no session: run the cells (again) first"}
        try:
            return session.graph(name) or {
                **empty,
                "note": f"the graph of {name} could not be read",
            }
        except (WorkerError, OSError, EOFError):
            return {**empty, "note": "the session ended: run the cells again"}
