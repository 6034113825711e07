"""Frames between the client, the relay and the cell process: 4-byte length + JSON.

JSON keeps every message readable in a debugger and lets the protocol grow by adding keys;
at the sizes a lesson sends, encoding costs microseconds (see bench/).
"""

from __future__ import annotations

import json
import os
import socket
import struct
from typing import Any

_HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


class ChannelClosed(EOFError):
    """The other end went away."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), default=str).encode()
    return _HEADER.pack(len(body)) + body


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(encode(message))


def write_fd(fd: int, message: dict[str, Any]) -> None:
    data = memoryview(encode(message))
    while data:
        data = data[os.write(fd, data) :]


def _read_exact(read, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = read(n - len(chunks))
        if not chunk:
            raise ChannelClosed
        chunks += chunk
    return bytes(chunks)


def recv(sock: socket.socket) -> dict[str, Any]:
    return _decode(
        lambda n: sock.recv(n),
    )


def read_fd(fd: int) -> dict[str, Any]:
    return _decode(lambda n: os.read(fd, n))


def _decode(read) -> dict[str, Any]:
    (size,) = _HEADER.unpack(_read_exact(read, _HEADER.size))
    if size > MAX_FRAME:
        raise ChannelClosed(f"frame of {size} bytes")
    return json.loads(_read_exact(read, size))
