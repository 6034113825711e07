"""A non-blocking frame channel for the relay's select loop.

The relay sits between the client and the cell process and must never wait on either: a
blocking read of a pipe or socket that `select()` reported in an earlier round, or a
partial frame whose rest never comes, would freeze the session with no timeout able to
fire (the hang seen under load, when one round reported the cell's `done` and its output
pipe together). So every descriptor the relay owns is non-blocking, reads take what is
there, and writes that do not fit wait in an outbox until `select()` says there is room.
"""

from __future__ import annotations

import os
import select
import socket
import time
from typing import Any

from autograd_tutor.core.runner.shared import protocol

_CHUNK = 1 << 16


class Channel:
    """One peer of the relay: frames in through a FrameReader, frames out through an outbox."""

    def __init__(self, sock: socket.socket, limit: int = protocol.MAX_FRAME) -> None:
        sock.setblocking(False)
        self.sock = sock
        # A frame longer than `limit` is refused on its length prefix (BadFrame), before
        # any of its body is kept: the cell's channel gets frames.CELL_FRAME_LIMIT.
        self._reader = protocol.FrameReader(limit)
        self._outbox = bytearray()

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> list[dict[str, Any]]:
        """The frames that are complete after one read; ChannelClosed at end of file."""
        try:
            data = self.sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError as e:
            raise protocol.ChannelClosed(str(e)) from None
        if not data:
            raise protocol.ChannelClosed
        return self._reader.feed(data)

    def send(self, message: dict[str, Any] | bytes) -> None:
        """Queue a frame (a message, or one already encoded) and write what fits."""
        self._outbox += message if isinstance(message, bytes) else protocol.encode(message)
        self.flush()

    def flush(self) -> None:
        """Write what fits now; the rest waits for the next writable round."""
        while self._outbox:
            try:
                sent = self.sock.send(self._outbox)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                raise protocol.ChannelClosed(str(e)) from None
            del self._outbox[:sent]

    @property
    def partial(self) -> bool:
        """Part of a frame was read and its rest has not come."""
        return self._reader.partial

    @property
    def wants_write(self) -> bool:
        return bool(self._outbox)


def read_available(fd: int, most: int = 16 * _CHUNK) -> tuple[bytes, bool]:
    """What a non-blocking pipe holds now (up to `most` bytes, so that a writer faster
    than us cannot keep us here), and whether it reached end of file."""
    chunks: list[bytes] = []
    while sum(map(len, chunks)) < most:
        try:
            data = os.read(fd, _CHUNK)
        except (BlockingIOError, InterruptedError):
            return b"".join(chunks), False
        if not data:
            return b"".join(chunks), True
        chunks.append(data)
    return b"".join(chunks), False


def flush_before(channel: Channel, deadline: float) -> None:
    """Write the outbox until it is empty or the deadline passes."""
    while channel.wants_write and (left := deadline - time.monotonic()) > 0:
        if select.select([], [channel], [], left)[1]:
            channel.flush()


class ClientGone(Exception):
    """The client closed its end or asked for shutdown: the session ends."""


class CellGone(Exception):
    """The cell process's channel closed: it died, or learner code closed it."""
