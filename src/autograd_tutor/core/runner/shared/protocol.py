"""Frames between the client, the relay and the cell process: 4-byte length + JSON.

JSON keeps every message readable in a debugger and lets the protocol grow by adding keys;
at the sizes a lesson sends, encoding costs microseconds (see bench/).

Two ways to read frames:

* ``recv(sock, deadline)`` for a process that waits on one peer (the client, the cell
  process). With a deadline it never waits past it: it selects before every read, so a
  peer that stops in the middle of a frame cannot hold it.
* ``FrameReader`` for the relay, which must never block at all: it feeds whatever bytes a
  non-blocking read returned and gets back the frames that are complete.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from typing import Any

# Times both ends agree on (seconds). The relay enforces them; the client waits for each a
# little longer, so that it only gives up on a relay that has stopped answering.
DEFAULT_TIMEOUT = 30.0  # a cell's wall-clock limit unless the caller says otherwise
GRACE_SECONDS = 1.0  # after the SIGINT of a timeout, how long before SIGKILL
WARM_UP_SECONDS = 60.0  # a fresh cell process may still be importing before `started`

_HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
_CHUNK = 1 << 16


class ChannelClosed(EOFError):
    """The other end went away (or sent something that is not a frame)."""


class Deadline(TimeoutError):
    """The other end said nothing before the deadline."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), default=str).encode()
    return _HEADER.pack(len(body)) + body


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(encode(message))


class FrameReader:
    """Bytes in, complete frames out; keeps a partial frame until the rest arrives."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buffer += data
        frames = []
        while (frame := self._next()) is not None:
            frames.append(frame)
        return frames

    def _next(self) -> dict[str, Any] | None:
        if len(self._buffer) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(self._buffer)
        if size > MAX_FRAME:
            raise ChannelClosed(f"frame of {size} bytes")
        end = _HEADER.size + size
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[_HEADER.size : end])
        del self._buffer[:end]
        try:
            message = json.loads(body)
        except ValueError as e:
            raise ChannelClosed(f"not a JSON frame: {e}") from None
        if not isinstance(message, dict):
            raise ChannelClosed("a frame that is not a JSON object")
        return message


def recv(sock: socket.socket, deadline: float | None = None) -> dict[str, Any]:
    """The next frame; `deadline` is a time.monotonic() value, None waits for ever."""
    header = _read_exact(sock, _HEADER.size, deadline)
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ChannelClosed(f"frame of {size} bytes")
    message = json.loads(_read_exact(sock, size, deadline))
    if not isinstance(message, dict):
        raise ChannelClosed("a frame that is not a JSON object")
    return message


def _read_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                raise Deadline
        chunk = sock.recv(min(n - len(chunks), _CHUNK))
        if not chunk:
            raise ChannelClosed
        chunks += chunk
    return bytes(chunks)
