"""Fixtures for the panel widgets' tests: one real warm worker, tiny host apps, a poller.

No mocks of the worker: graphs and explorer runs come from a real WorkerHost, started once
for the whole test session (torch imports once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot

from autograd_tutor.core.runner.client import Session, WorkerHost


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def panel_host() -> Iterator[WorkerHost]:
    with WorkerHost() as worker:
        worker.wait_ready()
        yield worker


@pytest.fixture
def session(panel_host: WorkerHost) -> Iterator[Session]:
    s = panel_host.new_session()
    yield s
    s.close()


async def wait_for(
    pilot: Pilot, predicate: Callable[[], bool], timeout: float = 60.0, what: str = ""
) -> None:
    """Let the app process messages until `predicate` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.05)
