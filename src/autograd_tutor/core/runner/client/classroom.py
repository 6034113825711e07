"""The class's shared host, from both ends: the server starts it, each learner's app joins it.

* `SharedHost` (in the `serve` process): the one warm host of the class. It listens on a
  Unix socket in a folder only the server's uid may enter (mkdtemp: 0700), and is told the
  class's caps, which it enforces (`host/classroom.py`).
* `RemoteHost` (in each learner's app, started by textual-serve): a `WorkerHost` that,
  instead of starting a host of its own (~330 MB), connects to that socket, says which
  learner it serves, and asks for sessions over the same frames. A refused session is a
  `WorkerError` whose words the app shows.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from autograd_tutor.core.runner.client import deadlines
from autograd_tutor.core.runner.client.session import Session, WorkerError
from autograd_tutor.core.runner.client.workerhost import WorkerHost, _undumpable
from autograd_tutor.core.runner.shared import protocol, scratchroots
from autograd_tutor.core.runner.shared.classcaps import ENV_LEARNER, ENV_SOCKET, ClassCaps

SOCKET_NAME = "host.sock"
CONNECT_SECONDS = 10.0
# A fixed sentence, so the app words it in the learner's language (ui/i18n.py's catalogue).
RESTARTING = "the class's worker is restarting: run the cell again in a few seconds"


class SharedHost(WorkerHost):
    """The server's host: a WorkerHost whose process also listens for the learners' apps."""

    def __init__(self, caps: ClassCaps, **kwargs) -> None:
        super().__init__(keep_spare=False, **kwargs)
        self.caps = caps
        # mode 0700; locked while the server lives, so that no app's start sweeps it
        folder, self._folder_lock = scratchroots.make(prefix="autograd-tutor-class-")
        self.folder = Path(folder)
        self.socket_path = self.folder / SOCKET_NAME

    def _host_extras(self) -> tuple[list[str], list[int]]:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        os.chmod(self.socket_path, 0o600)
        listener.listen(128)
        listener.set_inheritable(True)
        self._listener = listener  # the host holds its own copy once started
        return [str(listener.fileno()), self.caps.to_json()], [listener.fileno()]

    def start(self) -> None:
        super().start()
        listener = getattr(self, "_listener", None)
        if listener is not None:
            listener.close()
            self._listener = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        """Whether the host process still runs (the server's supervisor asks each second)."""
        return self._proc is not None and self._proc.poll() is None

    def replace(self) -> dict:
        """A new host on the same socket after the old one died; its `ready` (WorkerError if
        it cannot start). The learners' apps reconnect when they next ask for a session."""
        with self._lock:
            self._abandon()
            self.socket_path.unlink(missing_ok=True)
        return self.wait_ready()

    def close(self) -> None:
        super().close()
        scratchroots.release(str(self.folder), self._folder_lock)
        self._folder_lock = -1


class RemoteHost(WorkerHost):
    """A learner app's way to the class's shared host (see the module's docstring)."""

    def __init__(self, socket_path: str, learner: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.socket_path, self.learner = socket_path, learner
        self.max_spares = 1  # each spare is memory the whole class pays for
        self.cell_seconds: float | None = None  # the class's per-cell time, once ready

    @classmethod
    def from_env(cls) -> RemoteHost | None:
        path, learner = os.environ.get(ENV_SOCKET), os.environ.get(ENV_LEARNER)
        return cls(path, learner) if path and learner else None

    def start(self) -> None:
        if self._control is not None or self._closed:
            return
        _undumpable()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_SECONDS)
        try:
            sock.connect(self.socket_path)
            hello = json.dumps({"op": "hello", "learner": self.learner}).encode()
            sock.sendall(hello)
        except OSError:
            sock.close()
            self._failure = RESTARTING  # the server replaces a dead host within seconds
            return
        sock.settimeout(deadlines.SEND_SECONDS)
        self._control = sock

    def wait_ready(self) -> dict:
        with self._lock:
            if self._ready is not None:
                return self._ready
            self.start()
            if self._control is None:
                raise WorkerError(getattr(self, "_failure", "the class server is closed"))
            try:
                reply = protocol.recv(self._control, time.monotonic() + deadlines.READY_SECONDS)
            except (protocol.Deadline, protocol.ChannelClosed, OSError):
                self._abandon()
                raise WorkerError("the class server's worker did not answer") from None
            if reply.get("ev") != "ready":
                self._abandon()
                raise WorkerError(f"the class server refused: {reply.get('message')}")
            self.cell_seconds = reply.get("cell_seconds")
            self._ready = reply
            return reply

    def _fork_session(self, settings: dict) -> Session:
        try:
            return super()._fork_session(settings)
        except WorkerError:
            if self._control is not None and self._ready is not None and not self._host_answers():
                self._abandon()  # the host died: the next session connects to its successor
                raise WorkerError(RESTARTING) from None
            raise

    def _host_answers(self) -> bool:
        """Whether the connection to the class's host is still open (no EOF waiting)."""
        assert self._control is not None
        try:
            self._control.setblocking(False)
            return self._control.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            return True  # nothing to read: open
        except OSError:
            return False
        finally:
            self._control.setblocking(True)
            self._control.settimeout(deadlines.SEND_SECONDS)

    def _stderr(self) -> str:
        return RESTARTING
