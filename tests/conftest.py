"""Fixtures for the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autograd_tutor.core.runner.client import Session, WorkerHost
from tests.workers import ready_host


@pytest.fixture(scope="session")
def worker_host() -> Iterator[WorkerHost]:
    """One real warm worker for the whole run: torch imports once, tests take sessions from it.

    Its settings are the app's defaults; a test must not change the host itself (kill it,
    freeze it, give it another home): such tests start their own with `ready_host(...)`."""
    with ready_host() as host:
        yield host


@pytest.fixture
def session(worker_host: WorkerHost) -> Iterator[Session]:
    """A fresh session of the suite's host, closed after the test."""
    s = worker_host.new_session()
    yield s
    s.close()
