"""`autograd-tutor serve` as the README starts it, for the browser test and the benchmark:
a real server process on a free port, its URL once it says it is serving, every wait with a
deadline, and the whole process group ended afterwards."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LESSON = Path(__file__).resolve().parent / "class.en.md"
START_SECONDS = 240.0  # importing torch on a loaded 2-core machine, then the web server
CHROMIUM = "/usr/bin/chromium"
# Chromium's own background connections are blocked here and slow it down without these.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Served:
    """A running server: its base URL (no slash at the end) and the class's access token."""

    base: str
    token: str

    def page(self, learner: str) -> str:
        return f"{self.base}/?token={self.token}&learner={learner}"

    def websocket(self, learner: str, query: str = "") -> str:
        ws = self.base.replace("http://", "ws://", 1)
        return f"{ws}/ws/{learner}/{self.token}" + (f"?{query}" if query else "")


@contextmanager
def serving(data: Path, *options: str, path: Path = LESSON) -> Iterator[Served]:
    """A running `autograd-tutor serve PATH --port N --data DATA`, as the URL it prints."""
    port = free_port()
    command = [sys.executable, "-m", "autograd_tutor", "serve", str(path), "--port", str(port)]
    command += ["--data", str(data), *options]
    log = open(data.parent / f"serve-{port}.log", "w+b")  # noqa: SIM115 - read on failure
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        url = ""
        while not url:
            log.seek(0)
            text = log.read().decode(errors="replace")
            found = re.search(r"serving the tutor on (http://\S+)", text)
            if found:
                url = found.group(1)
            elif proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve did not start:\n{text}")
            else:
                time.sleep(0.2)
        base, _, query = url.partition("?")
        yield Served(base.rstrip("/"), query.removeprefix("token="))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log.close()
