"""A session: one namespace in one confined cell process, reached through its relay."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from autograd_tutor.core.results import CellOutcome
from autograd_tutor.core.runner.client import deadlines
from autograd_tutor.core.runner.shared import frames, payloads, protocol
from autograd_tutor.core.runner.shared.frames import ProtocolViolation, parse_frame
from autograd_tutor.core.runner.shared.protocol import (
    DEFAULT_TIMEOUT,
    GRACE_SECONDS,
    WARM_UP_SECONDS,
    Deadline,
)

EventHandler = Callable[[dict[str, Any]], None]


DEFAULT_OUTPUT_LIMIT = 64 * 1024  # characters of stdout and stderr a cell may print

class WorkerError(RuntimeError):
    """The worker could not be started or answered nonsense."""


class Session:
    """One namespace in one confined cell process."""

    def __init__(self, sock: socket.socket, hello: dict[str, Any], relay: RelayHandle) -> None:
        sock.settimeout(deadlines.SEND_SECONDS)  # bounds sends; reads select first (protocol.recv)
        self._sock = sock
        self._relay = relay
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self.pid: int = hello.get("pid", 0)
        self.sandbox: dict[str, Any] = hello.get("sandbox", {})
        self.alive = True

    def _send(self, message: dict[str, Any]) -> None:
        with self._send_lock:
            protocol.send(self._sock, message)

    def run(
        self,
        code: str,
        *,
        filename: str = "<cell>",
        line: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        on_event: EventHandler | None = None,
    ) -> CellOutcome:
        """Run a cell; return its outcome, typed here at the protocol's edge (the `done` or
        `ended` frame with the cell's streams and plots gathered in). The `stream` and
        `plot` frames also go to on_event as they come."""
        message = {
            "code": code,
            "filename": filename,
            "line": line,
            "timeout": timeout,
            "output_limit": output_limit,
        }
        return CellOutcome.from_protocol(self._run(message, timeout, on_event))

    def trial(
        self, steps: Sequence[tuple[str, int]], *, filename: str, timeout: float = DEFAULT_TIMEOUT
    ) -> list[CellOutcome]:
        """Run each step (code, its first lesson line) in turn, while the one before ended
        ok, in a copy of this session that ends after them (the cell process forks): the
        session's namespace stays as it was. One outcome per step that ran; `timeout` is
        each step's. `check` tries wrong answers this way."""
        (code, line), *rest = steps
        message = {
            "code": code,
            "filename": filename,
            "line": line,
            "timeout": timeout * len(steps),
            "fork": True,
            "then": [{"code": c, "line": n} for c, n in rest],
        }
        answer = self._run(message, timeout * len(steps), None)
        later = [CellOutcome.from_protocol(step) for step in answer.get("then") or ()]
        return [CellOutcome.from_protocol(answer), *later]

    def _run(
        self, message: dict[str, Any], timeout: float, on_event: EventHandler | None
    ) -> dict[str, Any]:
        if not self.alive:
            raise WorkerError("this session has ended; start a new one")
        cell_id = next(self._ids)
        message = {"op": "run", "id": cell_id, **message}
        started = time.monotonic()
        # Until the cell starts, the relay allows it WARM_UP_SECONDS more; after, the timeout
        # and the grace of its SIGINT. Past those (and a slack, which also covers the relay's
        # wait for the loop's pong after `done`), the relay itself is stuck.
        after_start = timeout + GRACE_SECONDS + deadlines.ANSWER_SLACK
        deadline = started + WARM_UP_SECONDS + after_start
        gathered = _Gathered(int(message.get("output_limit") or DEFAULT_OUTPUT_LIMIT))
        try:
            self._send(message)
            while True:
                frame = self._next_frame(deadline)
                if isinstance(frame, frames.Done | frames.Ended):
                    if isinstance(frame, frames.Done) and frame.id != cell_id:
                        raise _Broken(f"a done for request {frame.id}, not {cell_id}")
                    break
                if getattr(frame, "id", None) != cell_id:
                    continue  # not this run's (an answer, a hello): nothing to do with it
                if isinstance(frame, frames.Started):
                    deadline = time.monotonic() + after_start
                elif gathered.take(frame) and on_event:
                    on_event(frame.to_json())
            event = frame.to_json()
        except Deadline:
            event = _ended(deadlines.STOPPED_ANSWERING)
        except _Broken as broken:
            event = _ended(ProtocolViolation(str(broken)).cause)
        except (protocol.ChannelClosed, OSError):
            event = _ended("the worker process disappeared")
        if event["ev"] == "ended":
            self._end()
            event.update(value=None, error=None, session_ended=True)
            event["seconds"] = round(time.monotonic() - started, 6)
        event.update(gathered.fields())
        return event

    def _next_frame(self, deadline: float) -> frames.RelayFrame:
        """The relay's next frame, typed at this edge too (defence in depth: the relay
        checked what the cell sent); _Broken for one that breaks the protocol."""
        try:
            frame = parse_frame(protocol.recv(self._sock, deadline), from_relay=True)
        except protocol.BadFrame as bad:
            raise _Broken(str(bad)) from None
        if isinstance(frame, ProtocolViolation):
            raise _Broken(frame.detail)
        return frame

    def interrupt(self) -> None:
        if self.alive:
            try:
                self._send({"op": "interrupt"})
            except OSError:
                pass

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        if not self.alive:
            raise WorkerError("this session has ended; start a new one")
        deadline = time.monotonic() + deadlines.ASK_SECONDS
        try:
            self._send(message)
            while True:
                frame = self._next_frame(deadline)
                if isinstance(frame, frames.Answer) and frame.ev == message["op"]:
                    return frame.body
                if isinstance(frame, frames.Ended):
                    raise protocol.ChannelClosed(frame.cause)
        except Deadline:
            self._end()
            raise WorkerError(deadlines.STOPPED_ANSWERING) from None
        except _Broken as broken:
            self._end()
            raise WorkerError(ProtocolViolation(str(broken)).cause) from None
        except (protocol.ChannelClosed, OSError) as e:
            self._end()
            raise WorkerError(f"the session ended: {e}") from None

    def _end(self) -> None:
        """This session is over: make sure nothing of it lives on, even a stuck relay."""
        if self.alive:
            self.alive = False
            self._relay.kill()  # the cell process follows (PR_SET_PDEATHSIG, pid namespace)

    def inspect(self) -> list[dict[str, Any]]:
        """The namespace's tensors (name, shape, requires_grad, is_leaf, grad, grad_fn...)."""
        return self._ask({"op": "inspect", "id": 0}).get("tensors", [])

    def graph(self, name: str) -> dict[str, Any]:
        return self._ask({"op": "graph", "id": 0, "name": name}).get("graph", {})

    def close(self) -> None:
        if self.alive:
            try:
                self._send({"op": "shutdown"})
            except OSError:
                self._relay.kill()
        self.alive = False
        self._sock.close()
        self._relay.release()


class _Broken(Exception):
    """A frame from the relay that breaks the protocol: the session is ended."""


def _ended(cause: str) -> dict[str, Any]:
    return {"ev": "ended", "status": "crashed", "cause": cause}


class _Gathered:
    """A run's streams and figures as they come, within the caps the relay keeps too."""

    def __init__(self, output_limit: int) -> None:
        self.out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.room = max(output_limit, 0)
        self.truncated = False
        self.plots: dict[str, dict[str, Any]] = {}

    def take(self, frame: frames.RelayFrame) -> bool:
        """Keep a stream or plot frame; False when it is dropped (over a cap, or another kind)."""
        if isinstance(frame, frames.Stream):
            text = frame.text[: self.room]
            self.truncated = self.truncated or len(text) < len(frame.text)
            self.room -= len(text)
            if text:
                self.out[frame.name].append(text)
            return bool(text)
        if isinstance(frame, frames.PlotFrame):
            if frame.key not in self.plots and len(self.plots) >= payloads.MAX_PLOT_KEYS:
                self.truncated = True
                return False
            self.plots[frame.key] = frame.plot
            return True
        return False

    def fields(self) -> dict[str, Any]:
        out = {
            "stdout": "".join(self.out["stdout"]),
            "stderr": "".join(self.out["stderr"]),
            "plots": list(self.plots.values()),
        }
        return {**out, "output_truncated": True} if self.truncated else out


class RelayHandle:
    """A handle on a session's relay process that can kill it without racing pid reuse.

    The host reaps relays automatically, so a bare pid could name another process by the
    time we kill it; a pidfd (Linux 5.3+) always names this one. Older kernels fall back
    to the pid, which the session's own socket tells us is still in use."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._fd: int | None = None
        if pid > 0 and hasattr(os, "pidfd_open"):
            try:
                self._fd = os.pidfd_open(pid)
            except OSError:
                self._fd = None

    def kill(self) -> None:
        try:
            if self._fd is not None:
                signal.pidfd_send_signal(self._fd, signal.SIGKILL)
            elif self.pid > 0:
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass  # already gone

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
