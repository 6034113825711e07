"""Main loop of the cell process: pid 1 of the session's pid namespace, fully confined.

It reads requests from the relay on one socket and answers on the same socket; fd 1 and 2
are pipes the relay reads, so anything a cell prints (even with os.write) is capped there.
"""

from __future__ import annotations

import io
import os
import select
import signal
import socket
import sys
import threading
from typing import Any

from autograd_tutor.core.runner.cell.execute import CellRunner, flush_std
from autograd_tutor.core.runner.shared import protocol


def _text_streams() -> None:
    # write_through: a print reaches the relay at once, so output streams while a cell runs.
    for fd, name in ((1, "stdout"), (2, "stderr")):
        raw = io.FileIO(fd, "w", closefd=False)
        stream = io.TextIOWrapper(
            raw, encoding="utf-8", errors="backslashreplace", write_through=True
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process


class Replies:
    """The channel's sending side. One frame at a time: a learner's thread that plots
    while the loop sends `done` must not cut one frame into the other."""

    def __init__(self, channel: socket.socket) -> None:
        self.channel = channel
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            protocol.send(self.channel, message)


def _plotting(replies: Replies, current: dict[str, Any]) -> Any:
    try:
        from autograd_tutor.core.runner.cell import plotting
    except ImportError:
        return None
    plotting.install(
        lambda plot: replies.send({"ev": "plot", "id": current.get("id"), "plot": plot})
    )
    return plotting


def serve(channel: socket.socket) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # SIGINT is only let through while a cell runs, so an interrupt that races with the end
    # of a cell can never cut a reply frame in half.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    _text_streams()
    runner = CellRunner()
    current: dict[str, Any] = {}
    replies = Replies(channel)
    plotting = _plotting(replies, current)
    if not select.select([channel], [], [], 0.05)[0]:
        # Nobody is waiting for this fresh session yet (a spare, or a learner reading):
        # finish the slow imports the host may not have had when it forked us.
        from autograd_tutor.core.runner.cell.warmup import warm_extras

        warm_extras(wanted=lambda: bool(select.select([channel], [], [], 0)[0]))
    while True:
        try:
            request = protocol.recv(channel)
        except (protocol.ChannelClosed, OSError):
            return
        op = request.get("op")
        if op == "run":
            current["id"] = request["id"]
            while signal.sigtimedwait({signal.SIGINT}, 0):
                pass  # drop an interrupt meant for an earlier cell
            # The relay starts the clock, and sends interrupts held for this cell, from here.
            replies.send({"ev": "started", "id": request["id"]})
            if plotting:
                plotting.reset()
            outcome = _run_interruptible(runner, request)
            if plotting:
                _safe(plotting.flush)
            flush_std()
            replies.send({"ev": "done", "id": request["id"], **outcome})
        elif op == "ping":
            # The relay holds `done` until this: proof that the loop, not learner code that
            # forged a `done`, is back reading requests (relay/gate.py).
            replies.send({"ev": "pong", "nonce": request.get("nonce")})
        elif op in ("inspect", "graph"):
            replies.send({"ev": op, "id": request.get("id"), **_introspect(op, request, runner)})
        elif op == "shutdown":
            return


def _run_interruptible(runner: CellRunner, request: dict[str, Any]) -> dict[str, Any]:
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        return runner.run(
            request["code"], request.get("filename", "<cell>"), request.get("line", 1)
        )
    except KeyboardInterrupt:
        return {
            "status": "error",
            "value": None,
            "warnings": [],
            "seconds": 0.0,
            "error": {
                "type": "KeyboardInterrupt",
                "message": "interrupted",
                "line": None,
                "traceback": "KeyboardInterrupt\n",
                "explanation": None,
            },
        }
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _introspect(op: str, request: dict[str, Any], runner: CellRunner) -> dict[str, Any]:
    try:
        from autograd_tutor.core.runner.cell import introspect

        if op == "inspect":
            return {"tensors": introspect.tensor_rows(runner.namespace)}
        return {"graph": introspect.graph(runner.namespace, request["name"])}
    except Exception as exc:  # noqa: BLE001 - the namespace may hold anything
        return {"failed": f"{type(exc).__name__}: {exc}"}


def _safe(fn: Any) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - a plot must never cost the learner the cell's result
        pass
