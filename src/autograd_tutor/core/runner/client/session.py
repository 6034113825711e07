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
from autograd_tutor.core.runner.shared import protocol
from autograd_tutor.core.runner.shared.protocol import (
    DEFAULT_TIMEOUT,
    GRACE_SECONDS,
    WARM_UP_SECONDS,
    Deadline,
)

EventHandler = Callable[[dict[str, Any]], None]


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
        output_limit: int = 64 * 1024,
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
        # and the grace of its SIGINT. Past those (and a slack), the relay itself is stuck.
        deadline = started + timeout + WARM_UP_SECONDS + GRACE_SECONDS + deadlines.ANSWER_SLACK
        out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        plots: dict[str, dict[str, Any]] = {}
        try:
            self._send(message)
            while True:
                event = protocol.recv(self._sock, deadline)
                kind = event.get("ev")
                if kind == "started" and event.get("id") == cell_id:
                    deadline = time.monotonic() + timeout + GRACE_SECONDS + deadlines.ANSWER_SLACK
                    continue
                if kind == "stream" and event.get("id") == cell_id:
                    out[event["name"]].append(event["text"])
                elif kind == "plot" and event.get("id") == cell_id:
                    plots[str(event["plot"].get("key"))] = event["plot"]
                elif kind in ("done", "ended"):
                    break
                else:
                    continue
                if on_event:
                    on_event(event)
        except Deadline:
            self._end()
            event = {"ev": "ended", "status": "crashed", "cause": deadlines.STOPPED_ANSWERING}
        except (protocol.ChannelClosed, OSError):
            self._end()
            event = {"ev": "ended", "status": "crashed", "cause": "the worker process disappeared"}
        if event["ev"] == "ended":
            self._end()
            event.setdefault("value", None)
            event["error"] = None
            event["session_ended"] = True
            event["seconds"] = round(time.monotonic() - started, 6)
        event.update(
            stdout="".join(out["stdout"]), stderr="".join(out["stderr"]), plots=list(plots.values())
        )
        return event

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
                event = protocol.recv(self._sock, deadline)
                if event.get("ev") == message["op"]:
                    return event
                if event.get("ev") == "ended":
                    raise protocol.ChannelClosed(event.get("cause", "the session ended"))
        except Deadline:
            self._end()
            raise WorkerError(deadlines.STOPPED_ANSWERING) from None
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
