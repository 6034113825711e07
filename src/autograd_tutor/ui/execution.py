"""Run cells off the UI thread: one thread worker per lesson drains that lesson's queue.

The worker calls `LessonRun.run_cell`, which blocks until the cell is done, so the UI stays
free: the learner scrolls, moves and interrupts meanwhile. Streamed output is appended to
the cell's state as it comes; the screen repaints it on a timer (throttled). Everything else
reaches the UI thread as messages (`post_message` is thread-safe and harmless after exit).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message

from autograd_tutor.core.lessonrun import cell_result
from autograd_tutor.core.results import CellOutcome, CellResult
from autograd_tutor.core.runner.client import DEFAULT_TIMEOUT, WorkerError
from autograd_tutor.ui.state import CellState, LessonState

if TYPE_CHECKING:
    from textual.app import App

CELL_TIMEOUT = DEFAULT_TIMEOUT


class CellStarted(Message):
    def __init__(self, state: LessonState, index: int) -> None:
        super().__init__()
        self.state, self.index = state, index


class CellFinished(Message):
    """A cell's result, explained by the core as `run` explains it: the app only draws it."""

    def __init__(self, state: LessonState, index: int, result: CellResult, alive: bool) -> None:
        super().__init__()
        self.state, self.index, self.result, self.alive = state, index, result, alive


class SessionRestarted(Message):
    def __init__(self, state: LessonState) -> None:
        super().__init__()
        self.state = state


class TensorsUpdated(Message):
    """The namespace's tensors after a cell (`Session.inspect()`); [] when the session is gone."""

    def __init__(self, state: LessonState, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.state, self.rows = state, rows


class GraphReady(Message):
    """The autograd graph of `name` (`Session.graph`), asked for or refreshed after a cell."""

    def __init__(self, state: LessonState, name: str, graph: dict[str, Any]) -> None:
        super().__init__()
        self.state, self.name, self.graph = state, name, graph


class QueueIdle(Message):
    def __init__(self, state: LessonState) -> None:
        super().__init__()
        self.state = state


class CellRunner:
    """Mixin for the App: queue cells of a lesson and run them in a thread worker."""

    cell_timeout: float = CELL_TIMEOUT

    def enqueue(self: App, state: LessonState, indices: list[int]) -> None:  # type: ignore[misc]
        for index in indices:
            cell_state = state.cells[index]
            if cell_state.queued or cell_state.running or not cell_state.runnable:
                continue
            cell_state.queued = True
            # The code is taken now: what the learner sees when asking is what runs.
            state.pending.append(("run", index, cell_state.code))
        self.kick(state)

    def kick(self, state: LessonState) -> None:
        if not state.busy and state.pending:
            state.busy = True
            self._drain(state)

    def interrupt(self, state: LessonState) -> tuple[bool, bool]:
        """Stop the running cell and forget the queued ones: (was running, dropped any)."""
        dropped = any(c.queued for c in state.cells)
        for cell_state in state.cells:
            cell_state.queued = False
        # A graph asked for is kept: it runs no code, and its panel waits for it.
        # list() first: the runner thread pops from the deque meanwhile.
        graphs = [item for item in list(state.pending) if item[0] == "graph"]
        state.pending.clear()
        state.pending.extend(graphs)
        session = state.run.session
        running = state.running is not None
        if running and session is not None:
            session.interrupt()
        return running, dropped

    def request_graph(self, state: LessonState, name: str) -> None:
        """Fetch the graph of `name` through the lesson's queue: `Session.graph` reads the
        socket a running cell owns, so it must wait for the cells queued before it."""
        state.pending.append(("graph", name))
        self.kick(state)

    def restart(self, state: LessonState) -> None:
        self.interrupt(state)
        state.pending.append(("restart",))
        self.kick(state)

    # Not exclusive: each lesson has its own queue and worker, and a new worker in the group
    # must not cancel another lesson's (a thread cannot be cancelled mid-cell anyway).
    @work(thread=True, exclusive=False, group="cells", exit_on_error=False)
    def _drain(self: App, state: LessonState) -> None:  # type: ignore[misc]
        while True:
            try:
                item = state.pending.popleft()
            except IndexError:
                break
            if item[0] == "restart":
                state.run.close()
                state.run.session = None  # a chosen restart is not a surprise `fresh_session`
                self._post(SessionRestarted(state))
                continue
            if item[0] == "graph":
                self._post(GraphReady(state, item[1], self._graph(state, item[1])))
                continue
            _, index, code = item
            cell_state = state.cells[index]
            result = self._run_one(state, cell_state, code)
            cell = cell_state.cell
            alive = state.run.session is not None and state.run.session.alive
            if cell.role == "exercise" and alive and not result.interrupted:
                check = state.cell_of(str(cell.exercise), "check")
                if check is not None:
                    check.queued = True
                    self._run_one(state, check, check.code)
            # After the exercise and its check together: the marks say what the learner's
            # code changed, not what the check did after it.
            self._look(state)
        self._post(QueueIdle(state))

    def _look(self: App, state: LessonState) -> None:  # type: ignore[misc]
        """The inspector's rows, and the open graph again: the cell may have changed both."""
        session = state.run.session
        rows: list[dict[str, Any]] = []
        if session is not None and session.alive:
            try:
                rows = session.inspect()
            except (WorkerError, OSError, EOFError):  # the session died meanwhile: no tensors
                rows = []
        self._post(TensorsUpdated(state, rows))
        target = state.graph_target  # set on the UI thread; a stale read only costs a refresh
        if target is not None:
            self._post(GraphReady(state, target, self._graph(state, target)))

    def _graph(self, state: LessonState, name: str) -> dict[str, Any]:
        empty: dict[str, Any] = {"root": name, "nodes": [], "edges": [], "truncated": False}
        session = state.run.session
        if session is None or not session.alive:
            return {**empty, "note": "no session: run the cells (again) first"}
        try:
            return session.graph(name) or {
                **empty,
                "note": f"the graph of {name} could not be read",
            }
        except (WorkerError, OSError, EOFError):
            return {**empty, "note": "the session ended: run the cells again"}

    def _post(self: App, message: Message) -> None:  # type: ignore[misc]
        with contextlib.suppress(RuntimeError):
            self.post_message(message)  # after exit the loop is closed: nobody is left to tell

    def _run_one(  # type: ignore[misc]
        self: App, state: LessonState, cell_state: CellState, code: str
    ) -> CellResult:
        # Reset before telling the UI, so no streamed piece can be lost between the two.
        cell_state.live = []
        cell_state.live_plots = {}
        cell_state.started = time.monotonic()
        cell_state.running, cell_state.queued = True, False
        self._post(CellStarted(state, cell_state.cell.index))
        live, live_plots = cell_state.live, cell_state.live_plots

        def on_event(event: dict[str, Any]) -> None:
            kind = event.get("ev")
            if kind == "stream":
                live.append((event.get("name", "stdout"), event.get("text", "")))
            elif kind == "plot" and isinstance(event.get("plot"), dict):
                live_plots[str(event["plot"].get("key"))] = event[
                    "plot"
                ]  # as the client keeps them

        cell = cell_state.cell
        try:
            result = state.run.run_cell(cell, code, timeout=self.cell_timeout, on_event=on_event)
        except (WorkerError, OSError) as exc:
            # The host itself is gone or never started: say so like a crashed session.
            seconds = time.monotonic() - cell_state.started
            crashed = CellOutcome(status="crashed", cause=str(exc), seconds=seconds)
            result = cell_result(cell, crashed)
        session = state.run.session
        alive = session is not None and session.alive
        self._post(CellFinished(state, cell.index, result, alive))
        return result
