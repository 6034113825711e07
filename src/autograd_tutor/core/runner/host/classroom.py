"""The warm host shared by a class: one `import torch`, sessions for every learner's app.

`autograd-tutor serve` starts one host with a listening Unix socket in a private folder
(0700, made by the server). Each learner's app process connects, says which learner it
serves (`hello`), then asks for sessions exactly as a lone app does over its socketpair.
Why this is safe:

* Only the server's uid can reach the socket (the folder's mode), and SO_PEERCRED is
  checked on every connection all the same.
* A session is addressed by nothing but the socket its own app handed over: the host
  never names sessions to anyone, so no connection can reach another's.
* The host puts the class's caps over every request (`ClassCaps.settings`) and refuses a
  new session, with a sentence the learner reads, past the learner's or the class's count
  or when the machine runs short of memory.
* A relay forked for one learner keeps none of the host's other sockets, and scratch
  folders are made per learner.

The host never waits on one learner: each connection's reads follow select(), and its
replies are small frames written with a deadline; a connection that cannot take one is
dropped (its app reconnects on its next session).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
from dataclasses import dataclass, field

from autograd_tutor.core.runner.cell.warmup import Warming, next_wait
from autograd_tutor.core.runner.relay.relay import run_relay
from autograd_tutor.core.runner.shared import protocol
from autograd_tutor.core.runner.shared.cgroups import RelayWatch
from autograd_tutor.core.runner.shared.classcaps import LEARNER_KEY, ClassCaps

REPLY_SECONDS = 1.0  # a learner app that cannot take a small frame this long is dropped
CLOSE_SECONDS = 0.5


@dataclass
class Learner:
    key: str = ""  # empty until the app's hello
    relays: set[int] = field(default_factory=set)


def memory_available_mb() -> int:
    """MemAvailable from /proc/meminfo; a large number where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 1 << 30


def peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


class ClassHost:
    def __init__(
        self, control: socket.socket, listener: socket.socket, caps: ClassCaps, info: dict
    ):
        self.control, self.listener, self.caps = control, listener, caps
        self.info = {**info, "classroom": caps.describe(), "cell_seconds": caps.cell_seconds}
        self.conns: dict[socket.socket, Learner] = {}
        self.relays = RelayWatch()
        self.scratch_root = os.environ.get("AUTOGRAD_TUTOR_SCRATCH", "")

    def alive(self) -> set[int]:
        return set(self.relays.fds.values()) | self.relays.unwatched

    def serve(self) -> None:
        warming = Warming()
        while True:
            wait = next_wait(self.relays.timeout(), warming.timeout())
            watched = [self.control, self.listener, *self.conns, *self.relays.fds]
            ready = select.select(watched, [], [], wait)[0]
            self.relays.handle(ready)
            if self.control in ready and not self.control.recv(1):
                self.close()  # the server is gone: so is every session
                return
            asked = [c for c in ready if c in self.conns]
            if self.listener in ready:
                self.accept()
            for conn in asked:
                self.handle(conn)
            if asked or self.listener in ready:
                warming.busy()
            else:
                warming.idle()

    def accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        if peer_uid(conn) != os.getuid():  # the folder's mode already says so; make sure
            conn.close()
            return
        conn.settimeout(REPLY_SECONDS)
        self.conns[conn] = Learner()

    def handle(self, conn: socket.socket) -> None:
        learner = self.conns[conn]
        try:
            data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 1)
        except OSError:
            data, fds = b"", []
        try:
            request = json.loads(data) if data else None
        except ValueError:
            request = None
        if not isinstance(request, dict):
            for fd in fds:
                os.close(fd)
            self.drop(conn)
            return
        try:
            if request.get("op") == "hello" and not learner.key:
                key = str(request.get("learner", ""))
                if not LEARNER_KEY.fullmatch(key):
                    protocol.send(conn, {"ev": "error", "message": "not a learner key"})
                    self.drop(conn)
                    return
                learner.key = key
                protocol.send(conn, {"ev": "ready", **self.info})
            elif request.get("op") == "session" and learner.key and fds:
                refusal = self.refusal(learner)
                if refusal:
                    protocol.send(conn, {"ev": "refused", "message": refusal})
                else:
                    pid = self.fork(learner, fds[0], request.get("settings", {}))
                    protocol.send(conn, {"ev": "session", "pid": pid})
            else:
                self.drop(conn)
        except OSError:  # the app is gone or stopped reading: it reconnects if it lives
            self.drop(conn)
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def refusal(self, learner: Learner) -> str:
        """Why a new session cannot be had now, in the learner's terms; "" when it can."""
        alive = self.alive()
        learner.relays &= alive
        caps = self.caps
        if len(learner.relays) >= caps.learner_sessions:
            return (
                f"you already have {len(learner.relays)} live sessions, the most this class"
                " allows per learner: close a lesson you left (or wait for its session to end)"
            )
        if len(alive) >= caps.class_sessions:
            return f"the class server is full ({len(alive)} live sessions): try again in a minute"
        available = memory_available_mb()
        if available < caps.reserve_mb:
            return (
                f"the class server is short of memory ({available} MB free): try again in a minute"
            )
        return ""

    def fork(self, learner: Learner, fd: int, asked: dict) -> int:
        settings = self.caps.settings(asked if isinstance(asked, dict) else {})
        scratch = os.path.join(self.scratch_root, learner.key) if self.scratch_root else ""
        if scratch:
            os.makedirs(scratch, mode=0o700, exist_ok=True)
        pid = os.fork()
        if pid == 0:
            # The relay keeps nothing of the host's: no other learner's connection.
            for sock in (self.control, self.listener, *self.conns):
                sock.close()
            if scratch:
                os.environ["AUTOGRAD_TUTOR_SCRATCH"] = scratch
            run_relay(fd, settings)
        self.relays.add(pid)
        learner.relays.add(pid)
        return pid

    def drop(self, conn: socket.socket) -> None:
        """An app that left: its sessions go with it."""
        learner = self.conns.pop(conn, None)
        conn.close()
        if learner is None:
            return
        for pid in learner.relays & self.alive():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        for conn in list(self.conns):
            conn.close()
        self.conns.clear()
        self.relays.close(CLOSE_SECONDS)
