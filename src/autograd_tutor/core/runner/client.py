"""The runner client: the one API the app and the CLI use to run cells.

It never imports torch: the UI process stays light and starts at once, while the host
imports torch in the background.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from autograd_tutor.core.runner import protocol

DEFAULT_TIMEOUT = 30.0
EventHandler = Callable[[dict[str, Any]], None]
# Only these variables reach the worker: a cell must not read the app's secrets.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "VIRTUAL_ENV")


class WorkerError(RuntimeError):
    """The worker could not be started or answered nonsense."""


def _undumpable() -> None:
    """Make the app's memory and /proc/PID/environ unreadable to other processes."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def _matplotlib_cache() -> Path:
    """A font cache matplotlib builds once; cells may read it, never write it."""
    import platformdirs

    path = Path(platformdirs.user_cache_dir("autograd-tutor")) / "matplotlib"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _close_result(pending: Future[Session]) -> None:
    try:
        pending.result().close()
    except Exception:  # noqa: BLE001 - a spare that failed to start has nothing to close
        pass


class WorkerHost:
    """The warm host process; start() returns at once, sessions wait for it to be ready."""

    def __init__(self, *, keep_spare: bool = True) -> None:
        self.keep_spare = keep_spare
        self._spares: dict[str, Future[Session]] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spare-session")
        self._spare_lock = threading.Lock()
        self._closed = False
        self._scratch_root = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._lock = threading.Lock()
        self._ready: dict[str, Any] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the host's stderr, kept for errors

    def start(self) -> None:
        if self._proc is not None:
            return
        _undumpable()
        mine, theirs = socket.socketpair()
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["MPLCONFIGDIR"] = str(_matplotlib_cache())
        self._scratch_root = tempfile.mkdtemp(prefix="autograd-tutor-")
        env["AUTOGRAD_TUTOR_SCRATCH"] = self._scratch_root
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "autograd_tutor.core.runner.host", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            start_new_session=True,  # the terminal's ^C goes to the app, not the worker
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
        )
        theirs.close()
        self._control = mine

    def wait_ready(self) -> dict[str, Any]:
        """Block until torch is imported in the host; the host's info (versions, seconds)."""
        self.start()
        with self._lock:
            if self._ready is None:
                assert self._control is not None
                try:
                    reply = protocol.recv(self._control)
                except (protocol.ChannelClosed, OSError):
                    raise WorkerError(f"the worker did not start: {self._stderr()}") from None
                if reply.get("ev") != "ready":
                    raise WorkerError(f"the worker did not start: {reply.get('message')}")
                self._ready = reply
        return self._ready

    def new_session(
        self, *, read_paths: Sequence[Path] = (), spare: bool = True, **limits: int
    ) -> Session:
        """A fresh namespace. One spare per settings is forked ahead, so a restart or the
        next lesson gets its session at once instead of after two forks (~20-40 ms)."""
        settings = {"read_paths": [str(p) for p in read_paths], **limits}
        key = json.dumps(settings, sort_keys=True)
        with self._spare_lock:
            pending = self._spares.pop(key, None)
        session = None
        if pending is not None:
            try:
                session = pending.result()  # already forked, or being forked right now
            except WorkerError:
                session = None
        if session is None or not session.alive:
            session = self._fork_session(settings)
        if self.keep_spare and spare:  # spare=False: a one-off (a probe), no spare wanted
            with self._spare_lock:
                if not self._closed:
                    self._spares[key] = self._pool.submit(self._fork_session, settings)
        return session

    def _fork_session(self, settings: dict[str, Any]) -> Session:
        self.wait_ready()
        mine, theirs = socket.socketpair()
        with self._lock:
            if self._control is None or self._closed:
                raise WorkerError("the worker host is closed")
            try:
                request = json.dumps({"op": "session", "settings": settings}).encode()
                socket.send_fds(self._control, [request], [theirs.fileno()])
                theirs.close()
                protocol.recv(self._control)  # the host's {ev: session, pid}
                hello = protocol.recv(mine)
            except (protocol.ChannelClosed, OSError):
                raise WorkerError(f"the worker stopped: {self._stderr()}") from None
        return Session(mine, hello)

    def _stderr(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no message"

    def close(self) -> None:
        """Stop the host and every session, at once: quitting must not wait on torch."""
        with self._spare_lock:
            self._closed = True
            spares, self._spares = list(self._spares.values()), {}
        for pending in spares:
            # A spare still being forked closes itself when it arrives.
            pending.add_done_callback(_close_result)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._proc is not None:
            # The host may be busy importing torch (wait_ready() holds the lock meanwhile):
            # kill it rather than wait. Relays and cells follow it (PR_SET_PDEATHSIG).
            self._proc.kill()
            self._proc.wait()
        if self._control is not None:
            self._control.close()
        if self._scratch_root:
            shutil.rmtree(self._scratch_root, ignore_errors=True)
        self._proc = None

    def __enter__(self) -> WorkerHost:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Session:
    """One namespace in one confined cell process."""

    def __init__(self, sock: socket.socket, hello: dict[str, Any]) -> None:
        self._sock = sock
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
    ) -> dict[str, Any]:
        """Run a cell; return its outcome. Streams and plots also go to on_event as they come."""
        if not self.alive:
            raise WorkerError("this session has ended; start a new one")
        cell_id = next(self._ids)
        message = {
            "op": "run",
            "id": cell_id,
            "code": code,
            "filename": filename,
            "line": line,
            "timeout": timeout,
            "output_limit": output_limit,
        }
        started = time.monotonic()
        out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        plots: dict[str, dict[str, Any]] = {}
        try:
            self._send(message)
            while True:
                event = protocol.recv(self._sock)
                kind = event.get("ev")
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
        except (protocol.ChannelClosed, OSError):
            event = {"ev": "ended", "status": "crashed", "cause": "the worker process disappeared"}
        if event["ev"] == "ended":
            self.alive = False
            event.setdefault("value", None)
            event["error"] = None
            event["session_ended"] = True
            event["seconds"] = round(time.monotonic() - started, 6)
        event.pop("ev", None)
        event.update(
            stdout="".join(out["stdout"]), stderr="".join(out["stderr"]), plots=list(plots.values())
        )
        event.setdefault("warnings", [])
        event.setdefault("output_truncated", False)
        if on_event:
            on_event({"ev": "result", **event})
        return event

    def interrupt(self) -> None:
        if self.alive:
            try:
                self._send({"op": "interrupt"})
            except OSError:
                pass

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        self._send(message)
        while True:
            event = protocol.recv(self._sock)
            if event.get("ev") == message["op"]:
                return event

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
                pass
        self.alive = False
        self._sock.close()
