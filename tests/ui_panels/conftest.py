"""Fixtures for the panel widgets' tests: one real warm worker, tiny host apps, a poller.

No mocks of the worker: graphs and explorer runs come from the suite's one real WorkerHost
(`worker_host`, tests/conftest.py; torch imports once).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autograd_tutor.core.runner.client import Session, WorkerHost
from tests.ui.helpers import wait_for  # noqa: F401 - shared with the app tests


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def session(worker_host: WorkerHost) -> Iterator[Session]:
    s = worker_host.new_session()
    yield s
    s.close()
