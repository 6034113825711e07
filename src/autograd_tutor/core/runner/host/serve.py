"""The warm host: imports torch once, then forks one relay per session.

A fork of a process that has already imported torch gives a fresh namespace in about
10 ms instead of the ~1 s a new interpreter needs (bench/). The host never runs a tensor
op: libgomp's thread pool does not survive fork, so a parent that has used it would hang
its children (docs/sandbox.md).
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time

from autograd_tutor.core.runner.cell.warmup import Warming, next_wait
from autograd_tutor.core.runner.relay.relay import run_relay
from autograd_tutor.core.runner.shared import protocol
from autograd_tutor.core.runner.shared.cgroups import RelayWatch
from autograd_tutor.core.runner.shared.processes import die_with_parent

MPL_BACKEND = "module://autograd_tutor.core.runner.cell.mpl_backend"


def preload() -> dict:
    started = time.perf_counter()
    os.environ["MPLBACKEND"] = MPL_BACKEND
    import torch

    torch.set_num_threads(1)
    import numpy  # noqa: F401 - preloaded so cells import it instantly

    info = {"torch": torch.__version__, "import_seconds": round(time.perf_counter() - started, 3)}
    from autograd_tutor.core.runner.cell import serve  # noqa: F401

    for optional in ("plotting", "introspect"):
        try:
            __import__(f"autograd_tutor.core.runner.cell.{optional}")
        except ImportError:
            pass
    info["seconds"] = round(time.perf_counter() - started, 3)
    return info


CLOSE_SECONDS = 0.25  # on the app's exit, for ending sessions and removing their cgroups


def serve(control: socket.socket) -> None:
    warming = Warming()
    relays = RelayWatch()  # removes a session's cgroups once its relay is gone
    while True:
        wait = next_wait(relays.timeout(), warming.timeout())
        ready = select.select([control, *relays.fds], [], [], wait)[0]
        relays.handle(ready)
        if control not in ready:
            warming.idle()
            continue
        warming.busy()
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
        except OSError:
            data, fds = b"", []
        if not data:  # the app is gone (or closing us): leave no session and no cgroup
            relays.close(CLOSE_SECONDS)
            return
        request = json.loads(data)
        if request.get("op") != "session" or not fds:
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            control.close()  # (the pidfds of other relays: the cell process closes them)
            run_relay(fds[0], request.get("settings", {}))
        os.close(fds[0])
        relays.add(pid)
        protocol.send(control, {"ev": "session", "pid": pid})


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:
        os._exit(0)  # the app died before we could ask to follow it
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's ^C is the app's business
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # relays are reaped by the kernel
    try:
        info = preload()
    except BaseException as exc:  # noqa: BLE001 - tell the app why, instead of dying silently
        protocol.send(control, {"ev": "error", "message": f"{type(exc).__name__}: {exc}"})
        return
    protocol.send(control, {"ev": "ready", **info})
    if len(sys.argv) > 3:  # `serve`: a listening socket for the class's apps, and its caps
        from autograd_tutor.core.runner.host.classroom import ClassHost
        from autograd_tutor.core.runner.shared.classcaps import ClassCaps

        listener = socket.socket(fileno=int(sys.argv[2]))
        ClassHost(control, listener, ClassCaps.from_json(sys.argv[3]), info).serve()
        return
    serve(control)
