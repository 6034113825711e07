"""The real worker for the tests (no mocks): a warm host, started and waited for.

`tests/conftest.py` keeps one for the whole run (`worker_host`): torch is imported once and
every test takes its own sessions from it. A module whose tests need other settings (a fake
home, no spare sessions) starts its own with `ready_host(...)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from autograd_tutor.core.runner.client import WorkerHost


@contextmanager
def ready_host(**settings: Any) -> Iterator[WorkerHost]:
    """A WorkerHost with `settings`, torch imported in it; closed, with its sessions, after."""
    with WorkerHost(**settings) as host:
        host.wait_ready()
        yield host
