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
import math
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
# After a cell's `done`, how long its loop may take to answer the relay's `ping` (an idle
# loop answers at once; this is for a loaded machine). gate.py says why the relay asks.
# Less than the client's slack (deadlines.ANSWER_SLACK), which covers it.
PONG_SECONDS = 5.0

_HEADER = struct.Struct(">I")
# The largest frame any end reads (the relay reads the cell's with the lower
# frames.CELL_FRAME_LIMIT). The relay re-encodes what the cell sent, and JSON's escapes may
# make that up to six times longer, so this leaves room above the cell's limit.
MAX_FRAME = 16 * 1024 * 1024
_CHUNK = 1 << 16


class ChannelClosed(EOFError):
    """The other end went away (or sent something that is not a frame)."""


class BadFrame(ChannelClosed):
    """The other end sent something that is not a frame: too long, not JSON, a NaN, not an
    object. The reader refuses a frame too long on its length prefix, before the body."""


class Deadline(TimeoutError):
    """The other end said nothing before the deadline."""


def encode(message: dict[str, Any]) -> bytes:
    """A frame. Never NaN or Infinity (not JSON: every reader refuses them), and never a
    lone surrogate unescaped (ensure_ascii writes `\\ud800`)."""
    try:
        body = json.dumps(message, separators=(",", ":"), default=str, allow_nan=False)
    except ValueError:  # a float that is not finite, somewhere: it becomes null
        body = json.dumps(finite_only(message), separators=(",", ":"), default=str, allow_nan=False)
    return _HEADER.pack(len(body)) + body.encode()


def finite_only(value: Any) -> Any:
    """`value` with every float that is not finite (NaN, Infinity) made None: JSON has none."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_only(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_only(v) for v in value]
    return value


def _no_constant(name: str) -> Any:
    raise BadFrame(f"{name} is not JSON")


def decode(body: bytes) -> dict[str, Any]:
    """A frame's body as an object; BadFrame for anything else (NaN and Infinity too)."""
    try:
        # UTF-8 by the protocol: json.loads would guess UTF-16 or -32 from the first bytes,
        # and the relay, confined, cannot even import those codecs (a LookupError).
        message = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise BadFrame("a frame nested too deep") from None
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError included
        raise BadFrame(f"not a JSON frame: {e}") from None
    if not isinstance(message, dict):
        raise BadFrame("a frame that is not a JSON object")
    return message


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(encode(message))


class FrameReader:
    """Bytes in, complete frames out; keeps a partial frame until the rest arrives."""

    def __init__(self, limit: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self.limit = limit

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buffer += data
        frames = []
        while (frame := self._next()) is not None:
            frames.append(frame)
        return frames

    @property
    def partial(self) -> bool:
        return bool(self._buffer)

    def _next(self) -> dict[str, Any] | None:
        if len(self._buffer) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(self._buffer)
        if size > self.limit:
            raise BadFrame(f"a frame of {size} bytes, over the limit of {self.limit}")
        end = _HEADER.size + size
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[_HEADER.size : end])
        del self._buffer[:end]
        return decode(body)


def recv(
    sock: socket.socket, deadline: float | None = None, limit: int = MAX_FRAME
) -> dict[str, Any]:
    """The next frame; `deadline` is a time.monotonic() value, None waits for ever."""
    header = _read_exact(sock, _HEADER.size, deadline)
    (size,) = _HEADER.unpack(header)
    if size > limit:
        raise BadFrame(f"a frame of {size} bytes, over the limit of {limit}")
    return decode(_read_exact(sock, size, deadline))


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
