"""Main loop of the cell process: pid 1 of the session's pid namespace, fully confined.

It reads requests from the relay on one socket and answers on the same socket; fd 1 and 2
are pipes the relay reads, so anything a cell prints (even with os.write) is capped there.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import socket
import sys
import threading
from typing import Any

from autograd_tutor.core.runner.cell.execute import CellRunner, flush_std
from autograd_tutor.core.runner.shared import protocol
from autograd_tutor.core.runner.shared.processes import describe_exit


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
            if request.get("fork"):
                outcome = trial(runner, request)
            else:
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
        return _failed("KeyboardInterrupt", "interrupted", "KeyboardInterrupt\n")
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


def trial(runner: CellRunner, request: dict[str, Any]) -> dict[str, Any]:
    """A `run` with `fork`: the code, then each of `then` while the one before ended ok, in
    a copy of the session made by fork(); the copy ends after, so the session's namespace
    is as it was. `check` tries each wrong answer this way, from the state its exercise
    would run in, without running the lesson again (docs/architecture.md, "Protocol").

    The outcome is the first step's, with the later steps' in `then`. The copy inherits
    the channel and fd 1/2, but only this process writes frames: the copy's outcomes come
    back through a pipe. An interrupt for this process is passed on to the copy."""
    steps = [request, *({**request, **step} for step in request.get("then") or ())]
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(read_end)
        os.close(write_end)
        return _failed("OSError", f"the session could not be copied: {exc}")
    if pid == 0:  # the copy
        code = 1
        try:
            os.close(read_end)
            outcomes = []
            for step in steps:
                outcomes.append(_run_interruptible(runner, step))
                if outcomes[-1]["status"] != "ok":
                    break
            flush_std()
            data = json.dumps(outcomes).encode()
            while data:
                data = data[os.write(write_end, data) :]
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    data, status = _outcomes_of(pid, read_end)
    try:
        outcomes = json.loads(data)
        return {**outcomes[0], "then": outcomes[1:]}
    except (ValueError, IndexError, TypeError):
        return _failed("SessionCopyDied", f"the copy of the session ended: {describe_exit(status)}")


def _outcomes_of(pid: int, fd: int) -> tuple[bytes, int]:
    """Read the copy's answer until it ends; pass an interrupt (held here: SIGINT is
    blocked between cells) on to it."""
    chunks: list[bytes] = []
    status: int | None = None
    try:
        while status is None:
            if signal.sigtimedwait({signal.SIGINT}, 0) is not None:
                os.kill(pid, signal.SIGINT)
            if select.select([fd], [], [], 0.05)[0]:
                chunk = os.read(fd, 1 << 16)
                chunks.append(chunk)
                if chunk:
                    continue
            # An end of file, or a quiet moment: has the copy ended? (A child it forked may
            # hold the pipe open after it is gone.)
            done, raw = os.waitpid(pid, 0 if chunks and not chunks[-1] else os.WNOHANG)
            if done:
                status = raw
        while select.select([fd], [], [], 0)[0] and (chunk := os.read(fd, 1 << 16)):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks), status


def _failed(kind: str, message: str, traceback: str = "") -> dict[str, Any]:
    """A cell's outcome for an error of the worker's own, as the cell's errors are sent."""
    return {
        "status": "error",
        "value": None,
        "warnings": [],
        "seconds": 0.0,
        "error": {
            "type": kind,
            "message": message,
            "line": None,
            "traceback": traceback or f"{kind}: {message}\n",
            "explanation": None,
        },
    }
