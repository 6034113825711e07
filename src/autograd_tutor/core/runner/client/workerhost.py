"""The warm host as the client sees it: start it, wait for it, ask it for sessions."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from autograd_tutor.core.runner.client import deadlines
from autograd_tutor.core.runner.client.session import RelayHandle, Session, WorkerError
from autograd_tutor.core.runner.shared import cgroups, protocol, scratchroots
from autograd_tutor.core.runner.shared.processes import PR_SET_DUMPABLE, prctl
from autograd_tutor.core.runner.shared.protocol import Deadline
from autograd_tutor.core.runner.shared.sandbox_config import SandboxReport

# Only these variables reach the worker: a cell must not read the app's secrets.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "VIRTUAL_ENV")


def _undumpable() -> None:
    """Make the app's memory and /proc/PID/environ unreadable to other processes."""
    prctl(PR_SET_DUMPABLE, 0)


def _matplotlib_cache() -> Path:
    """A font cache matplotlib builds once; cells may read it, never write it."""
    import platformdirs

    path = Path(platformdirs.user_cache_dir("autograd-tutor")) / "matplotlib"
    path.mkdir(parents=True, exist_ok=True)
    return path


MAX_SPARES = 4  # spare sessions kept, one per settings, for the settings used last


def _close_result(pending: Future[Session]) -> None:
    try:
        pending.result().close()
    except Exception:  # noqa: BLE001 - a spare that failed to start has nothing to close
        pass


class WorkerHost:
    """The warm host process; start() returns at once, sessions wait for it to be ready."""

    def __init__(self, *, keep_spare: bool = True, home: Path | None = None) -> None:
        self.keep_spare = keep_spare
        self.max_spares = MAX_SPARES
        # The home the sandbox keeps closed (with every folder above it): HOME does not
        # reach the worker, so the relay is told explicitly. Tests pass a home-like folder.
        self.home = Path(home or Path.home()).resolve()
        self._spares: dict[str, Future[Session]] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spare-session")
        self._spare_lock = threading.Lock()
        self._closed = False
        self._relay_pids: set[int] = set()  # every session's relay, for the sweep on close
        self._scratch_root = ""
        self._scratch_lock = -1  # held while the app lives (scratchroots.py)
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._lock = threading.Lock()
        self._ready: dict[str, Any] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the host's stderr, kept for errors

    def start(self) -> None:
        if self._proc is not None or self._closed:  # never a new host after close()
            return
        _undumpable()
        mine, theirs = socket.socketpair()
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["MPLCONFIGDIR"] = str(_matplotlib_cache())
        scratchroots.sweep()  # what a killed app left, as the host sweeps session cgroups
        self._scratch_root, self._scratch_lock = scratchroots.make()
        env["AUTOGRAD_TUTOR_SCRATCH"] = self._scratch_root
        extra_args, extra_fds = self._host_extras()
        self._proc = subprocess.Popen(
            [
                sys.executable,
                *("-m", "autograd_tutor.core.runner.host", str(theirs.fileno())),
                *extra_args,
            ],
            pass_fds=[theirs.fileno(), *extra_fds],
            start_new_session=True,  # the terminal's ^C goes to the app, not the worker
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
        )
        theirs.close()
        self._control = mine

    def _host_extras(self) -> tuple[list[str], list[int]]:
        """More arguments and fds for the host process (the class's shared host has some)."""
        return [], []

    def wait_ready(self) -> dict[str, Any]:
        """Block until torch is imported in the host; the host's info (versions, seconds)."""
        self.start()
        with self._lock:
            if self._ready is None:
                if self._closed:
                    raise WorkerError("the worker host is closed")
                # Another thread may have abandoned a stuck host since start() above saw it
                # running: start its successor here, under the lock, so one is started.
                self.start()
                assert self._control is not None
                try:
                    reply = protocol.recv(self._control, time.monotonic() + deadlines.READY_SECONDS)
                except Deadline:
                    self._abandon()
                    raise WorkerError(
                        f"the worker did not start within {deadlines.READY_SECONDS:.0f} s"
                    ) from None
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
        settings = {"read_paths": [str(p) for p in read_paths], "home": str(self.home), **limits}
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
                # Only the settings asked for last: each spare is a relay and a cell process
                # with open sockets, and every lesson folder has settings of its own.
                while len(self._spares) > self.max_spares:
                    oldest = next(iter(self._spares))
                    self._spares.pop(oldest).add_done_callback(_close_result)
        return session

    def sandbox_report(self) -> SandboxReport:
        """What a cell gets on this machine: one throwaway session's report (no spare)."""
        probe = self.new_session(spare=False)
        try:
            return SandboxReport.from_json(probe.sandbox)
        finally:
            probe.close()

    def _fork_session(self, settings: dict[str, Any]) -> Session:
        self.wait_ready()
        mine, theirs = socket.socketpair()
        with self._lock:
            if self._control is None or self._closed:
                raise WorkerError("the worker host is closed")
            deadline = time.monotonic() + deadlines.FORK_SECONDS
            try:
                request = json.dumps({"op": "session", "settings": settings}).encode()
                socket.send_fds(self._control, [request], [theirs.fileno()])
                theirs.close()
                reply = protocol.recv(self._control, deadline)
                if reply.get("ev") == "refused":  # the class's shared host is at a cap
                    mine.close()
                    raise WorkerError(str(reply.get("message", "no session now")))
                relay_pid = reply.get("pid", 0)
                relay = RelayHandle(relay_pid)
                self._relay_pids.add(relay_pid)
                hello = protocol.recv(mine, deadline)
            except Deadline:
                # A host that does not answer is stuck: the next session gets a new one.
                self._abandon()
                mine.close()
                raise WorkerError("the worker stopped answering; it will be restarted") from None
            except (protocol.ChannelClosed, OSError):
                mine.close()
                raise WorkerError(f"the worker stopped: {self._stderr()}") from None
        return Session(mine, hello, relay)

    def _abandon(self) -> None:
        """Kill a host that stopped answering; the next start() makes a new one."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        if self._control is not None:
            self._control.close()
        self._proc, self._control, self._ready = None, None, None

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
        if self._control is not None:
            # A host that is listening ends its sessions and removes their cgroups at once.
            self._control.close()
        if self._proc is not None:
            # One busy importing torch (wait_ready() holds the lock meanwhile) is killed
            # rather than waited for: quitting must not wait on torch. Relays and cells
            # follow it (PR_SET_PDEATHSIG).
            try:
                self._proc.wait(timeout=deadlines.CLOSE_SECONDS)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            # A killed host's relays die with it and leave their session cgroups; a host
            # that ended by itself may have run out of its time to remove them on a loaded
            # machine. Remove what is left now rather than at the next start (the sweep
            # never touches a live session, and costs a few directory reads otherwise).
            cgroups.sweep_until(frozenset(self._relay_pids), deadlines.CLOSE_SECONDS)
        if self._scratch_root:
            scratchroots.release(self._scratch_root, self._scratch_lock)
            self._scratch_root, self._scratch_lock = "", -1
        self._proc = None

    def __enter__(self) -> WorkerHost:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
