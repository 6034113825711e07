"""The relay: one per session, between the client and the confined cell process.

Forked from the warm host, it enters fresh namespaces, forks the cell process (pid 1 of the
new pid namespace), then moves bytes: requests to the cell, output and results back. Apart
from the cell, it caps floods, enforces timeouts (SIGINT, then SIGKILL) and reports a
segfault or os._exit as `crashed`; everything from the cell is hostile input (gate.py)."""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import shutil
import signal
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from autograd_tutor.core.runner.relay.channel import (
    CellGone,
    Channel,
    ClientGone,
    flush_before,
    read_available,
)
from autograd_tutor.core.runner.relay.gate import Broken, CellGate, Running
from autograd_tutor.core.runner.relay.sessioncaps import SessionCaps
from autograd_tutor.core.runner.relay.sessiontree import Strays
from autograd_tutor.core.runner.sandbox import (
    SandboxConfig,
    SandboxReport,
    close_fds_from,
    confine_cell,
    enter_namespaces,
)
from autograd_tutor.core.runner.shared import frames, protocol
from autograd_tutor.core.runner.shared.processes import describe_exit, die_with_parent, reap
from autograd_tutor.core.runner.shared.protocol import (
    DEFAULT_TIMEOUT,
    GRACE_SECONDS,
    WARM_UP_SECONDS,
)

CONFINE_SECONDS = 30.0  # confinement takes milliseconds; a hang there is a dead session
STREAM_EVERY = 0.03  # coalesce output into one event per 30 ms


class Relay:
    """Moves frames and bytes between the client and the cell process; never blocks.

    Every descriptor is non-blocking and every wait is the one `select()` in `serve`, with
    a timeout while a cell runs: output, `done`, an interrupt and a deadline can arrive in
    any order, in the same round or in different ones, and none of them can stall the rest.
    """

    # Which ready descriptor is handled first is the kernel's choice; tests swap in a
    # selector that picks the worst order, to prove that no order can stall the loop.
    selector_class: type[selectors.BaseSelector] = selectors.DefaultSelector

    def __init__(
        self,
        client: socket.socket,
        config: SandboxConfig,
        report: SandboxReport,
        caps: SessionCaps | None = None,
    ) -> None:
        self.client = Channel(client)
        self.config = config
        self.report = report
        # The session's memory and process caps (sessioncaps.py); none: nothing to watch.
        self.caps = caps or SessionCaps(config.memory_bytes, config.processes)
        self.over_cap = False
        self.strays = Strays()  # the cell's background processes, stopped between cells
        report.active.append("background processes stopped between cells")
        self.running: Running | None = None
        self.gate = CellGate()
        self.broken: str | None = None  # how the cell broke the protocol, once it has
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
                self.caps.join(self.report)  # into the session's cgroup, before anything else
                os.dup2(out_w, 1)
                os.dup2(err_w, 2)
                for fd in (out_r, out_w, err_r, err_w):
                    os.close(fd)
                mine.close()
                self.client.sock.close()
                # Only fds 0-2 and the channel reach learner code (and the mount plan's copies,
                # which confine_cell mounts and then closes): nothing inherited by accident.
                os.dup2(theirs.fileno(), 3)
                theirs.close()
                close_fds_from(4, keep=self.config.plan.fds() if self.config.plan else [])
                theirs = socket.socket(fileno=3)
                confine_cell(self.config, self.report)
                protocol.send(theirs, {"ev": "confined", "sandbox": self.report.to_json()})
                from autograd_tutor.core.runner.cell import serve as cell

                cell.serve(theirs)
            finally:
                os._exit(0)
        self.pid = pid
        for fd in (out_w, err_w):
            os.close(fd)
        theirs.close()
        self.pipes = {out_r: "stdout", err_r: "stderr"}
        for fd in self.pipes:
            os.set_blocking(fd, False)
        # ChannelClosed if confinement killed the process, Deadline if it hangs.
        confined = protocol.recv(
            mine, time.monotonic() + CONFINE_SECONDS, limit=frames.CELL_FRAME_LIMIT
        )
        self.report = SandboxReport.from_json(confined["sandbox"])
        self.cell = Channel(mine, limit=frames.CELL_FRAME_LIMIT)
        self.caps.started(pid, self.report)
        self.strays.cell = pid

    # -- the loop -------------------------------------------------------------------------

    def serve(self) -> None:
        sel = self.selector_class()
        sel.register(self.client, selectors.EVENT_READ, self._from_client)
        sel.register(self.cell, selectors.EVENT_READ, self._from_cell)
        for fd in self.pipes:
            sel.register(fd, selectors.EVENT_READ, self._from_pipe)
        self.client.send({"ev": "hello", "pid": self.pid, "sandbox": self.report.to_json()})
        writing = {self.client: False, self.cell: False}
        try:
            while True:
                for channel, was in writing.items():  # ask for room to write only when needed
                    if channel.wants_write != was:
                        writing[channel] = channel.wants_write
                        mask = selectors.EVENT_READ | (selectors.EVENT_WRITE * (not was))
                        sel.modify(channel, mask, sel.get_key(channel).data)
                for key, events in sel.select(self._wait()):
                    if events & selectors.EVENT_WRITE:
                        key.fileobj.flush()
                    if events & selectors.EVENT_READ:
                        key.data(key, sel)
                self._tick()
        except ClientGone:
            return
        except CellGone:
            self._cell_died()
        except Broken as broken:
            # A frame out of the protocol ends the session as a crash does (gate.py).
            self.broken = str(broken)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # pid 1: its whole pid namespace goes too
            self._cell_died()

    def _wait(self) -> float | None:
        run = self.running
        check = self.caps.due_in(run is not None)  # the memory watchdog's next sample
        if run is None:
            return check
        wake = min(run.deadline, run.pong_deadline or run.deadline) - time.monotonic()
        if run.pending:
            wake = min(wake, STREAM_EVERY)
        if check is not None:
            wake = min(wake, check)
        return max(wake, 0.0)

    def _from_client(self, key: selectors.SelectorKey, sel: selectors.BaseSelector) -> None:
        try:
            messages = self.client.read()
        except protocol.ChannelClosed:
            raise ClientGone from None  # the app went away: end the session
        for msg in messages:
            self._client_message(msg)

    def _client_message(self, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        if op == "run":
            self.strays.resume()
            timeout = float(msg.get("timeout") or DEFAULT_TIMEOUT)
            cap = int(msg.get("output_limit") or 64 * 1024)
            # A margin until the cell says `started` (warm-up imports); the real deadline then.
            self.running = Running(
                msg.get("id"), time.monotonic() + timeout + WARM_UP_SECONDS, cap, timeout=timeout
            )
        elif op == "interrupt":
            if self.running and self.running.started:
                os.kill(self.pid, signal.SIGINT)
            elif self.running:
                self.running.interrupt_held = True  # the cell process is still warming up
            return
        elif op == "shutdown":
            raise ClientGone
        elif op in ("inspect", "graph"):
            self.gate.asked.append(op)  # the one answer the cell may send next
        self._to_cell(msg)

    def _to_cell(self, msg: dict[str, Any]) -> None:
        try:
            self.cell.send(msg)
        except protocol.ChannelClosed:
            raise CellGone from None

    def _to_client(self, msg: dict[str, Any] | bytes) -> None:
        try:
            self.client.send(msg)
        except protocol.ChannelClosed:
            raise ClientGone from None

    def _from_cell(self, key: selectors.SelectorKey, sel: selectors.BaseSelector) -> None:
        try:
            messages = self.cell.read()
        except protocol.BadFrame as bad:
            raise Broken(str(bad)) from None  # too long (refused on its length), not JSON, NaN
        except protocol.ChannelClosed:
            raise CellGone from None
        except Exception as exc:  # noqa: BLE001 - no frame may end the relay unexplained
            raise Broken(f"a frame that could not be read ({type(exc).__name__})") from None
        for msg in messages:
            self._cell_message(msg)

    def _cell_message(self, msg: dict[str, Any]) -> None:
        run = self.running
        frame = self.gate.admit(msg, run)  # typed and in order, or Broken
        if frame is None:
            return
        if isinstance(frame, frames.Started) and run:
            run.started = True
            run.deadline = time.monotonic() + run.timeout
            if run.interrupt_held:
                os.kill(self.pid, signal.SIGINT)
        elif isinstance(frame, frames.Done) and run:
            if self.caps.poll(True, now=True):  # a child of the cell was OOM-killed
                self._end_over_cap()
                return  # `ended` (status memory) follows when the cell process is gone
            self._to_cell(run.hold(frame))  # answered by `pong` once the loop is back
            return
        elif isinstance(frame, frames.Pong) and run and run.held:
            return self._finish(run, run.held)
        elif isinstance(frame, frames.PlotFrame) and run:
            self._flush(force=True)  # text printed before the figure shows before it
            if (data := run.plot(frame.key, protocol.encode(frame.to_json()))) is not None:
                self._to_client(data)
            return
        self._to_client(frame.to_json())

    def _finish(self, run: Running, done: frames.Done) -> None:
        self._drain_pipes()  # what the cell printed before `done` belongs to this cell
        self.strays.stop()
        kept = run.timed_out  # stopped by its interrupt: the namespace is still there
        self.running = None
        for data in run.last_figures():  # figures held past the budget: each key's last
            self._to_client(data)
        done = replace(
            done,
            status="timeout" if kept else done.status,
            output_truncated=run.truncated,
            namespace_kept=kept,
        )
        self._to_client(done.to_json())

    def _from_pipe(self, key: selectors.SelectorKey, sel: selectors.BaseSelector) -> None:
        data, ended = read_available(key.fd)
        self._consume(self.pipes[key.fd], data)
        if ended:
            sel.unregister(key.fd)

    def _consume(self, name: str, data: bytes) -> None:
        run = self.running
        if run is None or not data:
            return  # output between cells (a background thread): dropped
        room = run.out_cap - run.sent
        if len(data) > room:
            data, run.truncated = data[: max(room, 0)], True
        run.sent += len(data)
        if data:
            run.pending[name] = run.pending.get(name, "") + self.decoders[name].decode(data)

    def _drain_pipes(self) -> None:
        """Take what is already in the pipes, without waiting for more."""
        for fd, name in self.pipes.items():
            self._consume(name, read_available(fd)[0])
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
                data = protocol.encode(frames.Stream(run.id, name, text).to_json())
                run.spend(len(data))  # text is within out_cap already: it always goes
                self._to_client(data)
        run.pending.clear()
        run.last_flush = now

    def _end_over_cap(self) -> None:
        if not self.over_cap:
            self.over_cap = True
            os.kill(self.pid, signal.SIGKILL)  # pid 1: its whole pid namespace goes too

    def _tick(self) -> None:
        run = self.running
        if self.caps.poll(run is not None):
            self._end_over_cap()
        if run is None:
            self.strays.stop()  # any forked since by a thread of the cell process
            return
        self._flush()
        if run.held is not None:  # the cell's own clock stopped at `done`; the pong's runs
            if time.monotonic() >= run.pong_deadline:
                raise Broken("a done, but the cell's loop did not come back")
            return
        if time.monotonic() < run.deadline:
            return
        if not run.timed_out:
            run.timed_out = True  # first SIGINT: Python-level loops stop, the namespace stays
            run.deadline = time.monotonic() + GRACE_SECONDS
            os.kill(self.pid, signal.SIGINT)
        else:
            os.kill(self.pid, signal.SIGKILL)  # stuck in native code: the namespace is lost
            run.deadline = time.monotonic() + 3600

    def _cell_died(self) -> None:
        status = reap(self.pid)
        self._drain_pipes()  # output written just before the death still counts
        run = self.running
        if run and run.timed_out and self.cell.partial:
            self.broken = "a frame cut short"  # the cell's `done` went into its body
        if self.broken is not None:
            state, cause = "crashed", frames.ProtocolViolation(self.broken).cause
        elif self.caps.hit_memory(status):
            state, cause = "memory", self.caps.cause
        elif run and run.timed_out:
            state, cause = "timeout", "the cell did not stop after an interrupt and was killed"
        elif status is None:
            state, cause = "crashed", "the cell process closed its channel and was killed"
        else:
            state, cause = "crashed", describe_exit(status)
        with contextlib.suppress(ClientGone):
            truncated = bool(run and run.truncated)
            self._to_client(
                frames.Ended(run.id if run else None, state, cause, truncated).to_json()
            )
            # The client may be slow to read: give the last words a bounded chance to leave.
            flush_before(self.client, time.monotonic() + GRACE_SECONDS)


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
        home = Path(settings["home"]) if settings.get("home") else None
        config = SandboxConfig(scratch=scratch, read_paths=read_paths, home=home)
        limits = ("memory_bytes", "cpu_seconds", "file_bytes", "open_files", "processes")
        for key in (*limits, "scratch_bytes"):
            if settings.get(key):
                setattr(config, key, int(settings[key]))
        config.seccomp = settings.get("seccomp", 1) != 0  # 0: the benchmark's baseline
        report = SandboxReport(active=[], missing={})
        # While still privileged: the session's cgroup is made here, and joined by the cell.
        caps = SessionCaps.setup(config, report, settings)
        enter_namespaces(report, config)  # root copies the cell's mounts, then is nobody
        relay = Relay(client, config, report, caps)
        relay.start_cell_process()
        config.plan.close()  # the cell has its own copies
        relay.serve()
        reap(relay.pid, wait=0)  # kills the cell process, and with it its pid namespace
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
