"""The real worker for the tests (no mocks): a warm host, started and waited for.

`tests/conftest.py` keeps one for the whole run (`worker_host`): torch is imported once and
every test takes its own sessions from it. A module whose tests need other settings (a fake
home, no spare sessions) starts its own with `ready_host(...)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from autograd_tutor.core.runner.client import WorkerHost


@contextmanager
def ready_host(**settings: Any) -> Iterator[WorkerHost]:
    """A WorkerHost with `settings`, torch imported in it; closed, with its sessions, after."""
    with WorkerHost(**settings) as host:
        host.wait_ready()
        yield host


def has(report: dict[str, Any], protection: str) -> bool:
    """Whether a session's sandbox report (its JSON) has `protection` active."""
    return any(a.startswith(protection) for a in report.get("active", []))


def require(report: dict[str, Any], *protections: str) -> None:
    """Skip the test, with the kernel's reason, where a protection it needs is missing."""
    for name in protections:
        if not has(report, name):
            why = (report.get("missing") or {}).get(name, "not active")
            pytest.skip(f"{name} unavailable on this kernel: {why}")
