"""Fixtures for the panel widgets' tests: one real warm worker, tiny host apps, a poller.

No mocks of the worker: graphs and explorer runs come from a real WorkerHost, started once
for the whole test session (torch imports once).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autograd_tutor.core.runner.client import Session, WorkerHost
from tests.ui.helpers import wait_for  # noqa: F401 - shared with the app tests


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
