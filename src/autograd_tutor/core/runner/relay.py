"""The relay: one per session, between the client and the confined cell process.

It is forked from the warm host, enters fresh namespaces, forks the cell process (pid 1 of
the new pid namespace) and then only moves bytes: requests to the cell, output and results
back. Because it is a separate process it can cap floods of output, enforce wall-clock
timeouts with SIGINT then SIGKILL, and report a segfault or os._exit as a `crashed` record.
"""

from __future__ import annotations

import codecs
import os
import selectors
import shutil
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd_tutor.core.runner import protocol
from autograd_tutor.core.runner.sandbox import (
    SandboxConfig,
    SandboxReport,
    confine_cell,
    enter_namespaces,
)

GRACE_SECONDS = 1.0  # after SIGINT, how long a stuck native call gets before SIGKILL
STREAM_EVERY = 0.03  # coalesce output into one event per 30 ms
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL us when our parent dies (even by SIGKILL)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@dataclass
class Running:
    """The cell in flight."""

    id: Any
    deadline: float
    out_cap: int
    timeout: float = 30.0
    started: bool = False
    interrupt_held: bool = False
    sent: int = 0
    truncated: bool = False
    timed_out: bool = False
    pending: dict[str, str] = field(default_factory=dict)
    last_flush: float = 0.0


class Relay:
    def __init__(self, client: socket.socket, config: SandboxConfig, report: SandboxReport) -> None:
        self.client = client
        self.config = config
        self.report = report
        self.running: Running | None = None
        self.decoders = {
            n: codecs.getincrementaldecoder("utf-8")("replace") for n in ("stdout", "stderr")
        }

    def start_cell_process(self) -> None:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        mine, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the cell process
            try:
                die_with_parent()
                os.dup2(out_w, 1)
                os.dup2(err_w, 2)
                for fd in (out_r, out_w, err_r, err_w):
                    os.close(fd)
                mine.close()
                self.client.close()
                # Only fds 0-2 and the channel reach learner code: nothing inherited by accident.
                os.dup2(theirs.fileno(), 3)
                theirs.close()
                os.closerange(4, os.sysconf("SC_OPEN_MAX"))
                theirs = socket.socket(fileno=3)
                confine_cell(self.config, self.report)
                # The relay reports what the cell process really got, not what was planned.
                protocol.send(theirs, {"ev": "confined", "sandbox": self.report.to_json()})
                from autograd_tutor.core.runner import cell

                cell.serve(theirs)
            finally:
                os._exit(0)
        self.pid = pid
        for fd in (out_w, err_w):
            os.close(fd)
        theirs.close()
        self.cell = mine
        self.pipes = {out_r: "stdout", err_r: "stderr"}
        confined = protocol.recv(mine)  # ChannelClosed if confinement killed the process
        self.report = SandboxReport.from_json(confined["sandbox"])

    # -- the loop -------------------------------------------------------------------------

    def serve(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.client, selectors.EVENT_READ, "client")
        sel.register(self.cell, selectors.EVENT_READ, "cell")
        for fd in self.pipes:
            sel.register(fd, selectors.EVENT_READ, "pipe")
        protocol.send(
            self.client, {"ev": "hello", "pid": self.pid, "sandbox": self.report.to_json()}
        )
        while True:
            for key, _ in sel.select(self._wait()):
                if key.data == "client":
                    if not self._from_client():
                        return
                elif key.data == "cell":
                    if not self._from_cell():
                        self._cell_died(sel)
                        return
                elif not self._read_pipe(key.fd):
                    sel.unregister(key.fd)
            self._tick()

    def _wait(self) -> float | None:
        run = self.running
        if run is None:
            return None
        wake = run.deadline - time.monotonic()
        if run.pending:
            wake = min(wake, STREAM_EVERY)
        return max(wake, 0.0)

    def _from_client(self) -> bool:
        try:
            msg = protocol.recv(self.client)
        except (protocol.ChannelClosed, OSError):
            return False  # the app went away: end the session
        op = msg.get("op")
        if op == "run":
            timeout = float(msg.get("timeout") or 30)
            cap = int(msg.get("output_limit") or 64 * 1024)
            # Until the cell says `started` (it may still be finishing its warm-up imports),
            # allow a generous margin; the real deadline is set then.
            self.running = Running(
                msg.get("id"), time.monotonic() + timeout + 60, cap, timeout=timeout
            )
        elif op == "interrupt":
            if self.running and self.running.started:
                os.kill(self.pid, signal.SIGINT)
            elif self.running:
                self.running.interrupt_held = True  # the cell process is still warming up
            return True
        elif op == "shutdown":
            return False
        protocol.send(self.cell, msg)
        return True

    def _from_cell(self) -> bool:
        try:
            msg = protocol.recv(self.cell)
        except (protocol.ChannelClosed, OSError):
            return False
        if msg.get("ev") == "started" and self.running:
            self.running.started = True
            self.running.deadline = time.monotonic() + self.running.timeout
            if self.running.interrupt_held:
                os.kill(self.pid, signal.SIGINT)
            return True
        if msg.get("ev") == "done" and self.running:
            self._drain_pipes()
            run = self.running
            msg["output_truncated"] = run.truncated
            if run.timed_out:
                msg["status"] = "timeout"
                msg["namespace_kept"] = True
            self.running = None
        protocol.send(self.client, msg)
        return True

    def _read_pipe(self, fd: int) -> bool:
        """Read what a pipe has; False at end of file."""
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if data:
            self._consume(self.pipes[fd], data)
        return bool(data)

    def _consume(self, name: str, data: bytes) -> None:
        run = self.running
        if run is None:
            return  # output between cells (a background thread): dropped
        room = run.out_cap - run.sent
        if len(data) > room:
            data, run.truncated = data[: max(room, 0)], True
        run.sent += len(data)
        if data:
            run.pending[name] = run.pending.get(name, "") + self.decoders[name].decode(data)

    def _drain_pipes(self) -> None:
        """Read what is already in the pipes without waiting for more."""
        for fd, name in self.pipes.items():
            os.set_blocking(fd, False)
            try:
                while data := os.read(fd, 65536):
                    self._consume(name, data)
            except BlockingIOError:
                pass
            finally:
                os.set_blocking(fd, True)
        self._flush(force=True)

    def _flush(self, force: bool = False) -> None:
        run = self.running
        if run is None or not run.pending:
            return
        now = time.monotonic()
        if not force and now - run.last_flush < STREAM_EVERY:
            return
        for name, text in run.pending.items():
            if text:
                protocol.send(
                    self.client, {"ev": "stream", "id": run.id, "name": name, "text": text}
                )
        run.pending.clear()
        run.last_flush = now

    def _tick(self) -> None:
        run = self.running
        if run is None:
            return
        self._flush()
        if time.monotonic() < run.deadline:
            return
        if not run.timed_out:
            run.timed_out = True  # first SIGINT: Python-level loops stop, the namespace stays
            run.deadline = time.monotonic() + GRACE_SECONDS
            os.kill(self.pid, signal.SIGINT)
        else:
            os.kill(self.pid, signal.SIGKILL)  # stuck in native code: the namespace is lost
            run.deadline = time.monotonic() + 3600

    def _cell_died(self, sel: selectors.BaseSelector) -> None:
        _, status = os.waitpid(self.pid, 0)
        self._drain_pipes()  # output written just before the death still counts
        run = self.running
        if run and run.timed_out:
            state, cause = "timeout", "the cell did not stop after an interrupt and was killed"
        else:
            state, cause = "crashed", describe_exit(status)
        protocol.send(
            self.client,
            {
                "ev": "ended",
                "id": run.id if run else None,
                "status": state,
                "cause": cause,
                "output_truncated": bool(run and run.truncated),
            },
        )


def describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        meaning = {
            "SIGSEGV": "segmentation fault",
            "SIGKILL": "killed",
            "SIGABRT": "aborted",
            "SIGBUS": "bus error",
            "SIGXCPU": "CPU time limit",
            "SIGFPE": "arithmetic fault",
        }
        return f"{name} ({meaning[name]})" if name in meaning else name
    code = os.waitstatus_to_exitcode(status)
    return f"the process exited with code {code} (os._exit or a fatal error)"


def run_relay(client_fd: int, settings: dict[str, Any]) -> None:
    """Entry point in the freshly forked relay process; never returns."""
    code = 0
    scratch = None
    try:
        die_with_parent()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        client = socket.socket(fileno=client_fd)
        scratch = Path(settings.get("scratch") or _make_scratch())
        read_paths = [Path(p) for p in settings.get("read_paths", [])]
        if os.environ.get("MPLCONFIGDIR"):
            read_paths.append(Path(os.environ["MPLCONFIGDIR"]))
        config = SandboxConfig(scratch=scratch, read_paths=read_paths)
        for key in ("memory_bytes", "cpu_seconds", "file_bytes", "open_files", "processes"):
            if settings.get(key):
                setattr(config, key, int(settings[key]))
        report = SandboxReport(active=[], missing={})
        enter_namespaces(report)
        relay = Relay(client, config, report)
        relay.start_cell_process()
        relay.serve()
        try:
            os.kill(relay.pid, signal.SIGKILL)
            os.waitpid(relay.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    except BaseException:  # noqa: BLE001 - a relay must never fall back into the host's loop
        code = 1
    finally:
        if scratch is not None and not settings.get("scratch"):
            shutil.rmtree(scratch, ignore_errors=True)
        os._exit(code)


def _make_scratch() -> str:
    import tempfile

    # Under the client's scratch root, which the client removes even if we are killed.
    return tempfile.mkdtemp(prefix="session-", dir=os.environ.get("AUTOGRAD_TUTOR_SCRATCH"))
