"""The relay never blocks outside its select(), whatever the order of events.

The hang seen under load: one select() round reported both the cell's `done` and its
output pipe; handling `done` drained the pipe, and then the pipe's own entry in the same
round did a blocking read that never returned. Here the real Relay class runs over real
sockets and pipes; the test plays the cell process and holds the relay's select() until
output and `done` are both ready, then hands them over in each order.
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograd_tutor.core.runner.relay.relay import Relay
from autograd_tutor.core.runner.sandbox import SandboxConfig, SandboxReport
from autograd_tutor.core.runner.shared import protocol


class HeldSelector(selectors.DefaultSelector):
    """A real selector whose next round waits for the test, then lists keys in its order."""

    order: tuple[str, ...] = ()  # "cell", "pipe", "client": which ready key comes first

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.go.set()
        HeldSelector.last = self

    def select(self, timeout: float | None = None):  # type: ignore[override]
        assert self.go.wait(10), "the test never released the relay"
        ready = super().select(timeout)
        rank = {name: i for i, name in enumerate(self.order)}
        return sorted(ready, key=lambda kv: rank.get(_kind(kv[0]), len(rank)))


def _kind(key: selectors.SelectorKey) -> str:
    name = getattr(key.data, "__name__", "")
    return {"_from_cell": "cell", "_from_pipe": "pipe", "_from_client": "client"}.get(name, "")


class Rig:
    """A Relay in a thread, between a fake app (the test) and a fake cell (the test)."""

    def __init__(self, order: tuple[str, ...], tmp: Path) -> None:
        app, relay_side = socket.socketpair()
        cell_relay, self.cell = socket.socketpair()
        out_r, self.out_w = os.pipe()
        err_r, self.err_w = os.pipe()
        self.app = app
        self.dummy = subprocess.Popen(["sleep", "60"])  # stands for the cell process's pid
        relay = Relay(relay_side, SandboxConfig(scratch=tmp, read_paths=[]), SandboxReport())
        relay.selector_class = type("Ordered", (HeldSelector,), {"order": order})
        relay.pid = self.dummy.pid
        relay.pipes = {out_r: "stdout", err_r: "stderr"}
        for fd in relay.pipes:
            os.set_blocking(fd, False)
        from autograd_tutor.core.runner.relay.channel import Channel

        relay.cell = Channel(cell_relay)
        self.relay = relay
        self.thread = threading.Thread(target=relay.serve, daemon=True)
        self.thread.start()
        assert self.recv()["ev"] == "hello"

    def recv(self, seconds: float = 5.0) -> dict:
        return protocol.recv(self.app, time.monotonic() + seconds)

    def run_one(self, cell_id: int, text: str) -> list[dict]:
        """One cell whose output and `done` reach the relay in the same select() round."""
        protocol.send(self.app, {"op": "run", "id": cell_id, "code": "x", "timeout": 30})
        request = protocol.recv(self.cell, time.monotonic() + 5)
        assert request["op"] == "run"
        protocol.send(self.cell, {"ev": "started", "id": cell_id})
        assert self.recv()["ev"] == "started"
        selector = HeldSelector.last
        selector.go.clear()  # the relay's next round waits until both are ready
        time.sleep(0.05)  # let the relay reach that round
        os.write(self.out_w, text.encode())
        protocol.send(self.cell, done(cell_id))
        time.sleep(0.05)  # both are in the kernel's buffers now
        selector.go.set()
        ping = protocol.recv(self.cell, time.monotonic() + 5)  # the relay holds `done` until
        protocol.send(self.cell, {"ev": "pong", "nonce": ping["nonce"]})  # the loop answers
        events = []
        while True:
            event = self.recv()  # Deadline here is the hang
            events.append(event)
            if event["ev"] == "done":
                return events

    def close(self) -> None:
        protocol.send(self.app, {"op": "shutdown"})
        self.thread.join(5)
        self.dummy.kill()
        self.dummy.wait()
        for s in (self.app, self.cell):
            s.close()
        os.close(self.out_w)
        os.close(self.err_w)


def done(cell_id: int) -> dict:
    return {
        "ev": "done",
        "id": cell_id,
        "status": "ok",
        "value": None,
        "error": None,
        "warnings": [],
        "seconds": 0.0,
    }


@pytest.fixture(params=[("cell", "pipe"), ("pipe", "cell")], ids=["done-first", "output-first"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    r = Rig(request.param, tmp_path)
    yield r
    r.close()


@pytest.mark.timeout(30)
def test_output_and_done_in_the_same_round(rig: Rig) -> None:
    for cell_id in range(1, 6):  # the old relay hung on the first `done-first` round
        events = rig.run_one(cell_id, f"out {cell_id}\n")
        streams = "".join(e["text"] for e in events if e["ev"] == "stream")
        assert streams == f"out {cell_id}\n"
        assert events[-1] == {**done(cell_id), "output_truncated": False}
    assert rig.thread.is_alive()  # still serving, not stuck in a read


@pytest.mark.timeout(30)
def test_a_partial_frame_from_the_cell_does_not_stall_the_relay(rig: Rig) -> None:
    """Learner code can write to the channel's fd; half a frame must not hold the relay."""
    protocol.send(rig.app, {"op": "run", "id": 1, "code": "x", "timeout": 30})
    protocol.recv(rig.cell, time.monotonic() + 5)
    rig.cell.sendall(protocol.encode({"ev": "started", "id": 1})[:7])  # and nothing more
    time.sleep(0.1)
    protocol.send(rig.app, {"op": "interrupt"})  # the relay still reads the app
    os.write(rig.out_w, b"still streaming\n")
    event = rig.recv()
    assert event == {"ev": "stream", "id": 1, "name": "stdout", "text": "still streaming\n"}
