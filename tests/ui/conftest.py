"""Shared fixtures for the app's tests: one real warm worker, fixture lessons, a fresh data dir.

The worker is real (no mocks): the suite's one WorkerHost (`worker_host`, tests/conftest.py)
imports torch once and every test app gets its own sessions from it, which keeps the suite
fast enough to run often.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autograd_tutor.core.progress import Progress
from autograd_tutor.core.runner.client import WorkerHost
from autograd_tutor.ui.app import TutorApp
from autograd_tutor.ui.startup import plan

from .helpers import FIXTURES


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Progress goes to a fresh folder: tests never read or write the learner's."""
    folder = tmp_path / "data"
    monkeypatch.setenv("AUTOGRAD_TUTOR_DATA", str(folder))
    return folder


@pytest.fixture
def make_app(worker_host: WorkerHost, data_dir: Path) -> Callable[..., TutorApp]:
    def make(path: Path = FIXTURES, lang: str | None = "en", **options: Any) -> TutorApp:
        progress = Progress.load()
        start = plan(path, lang, progress)
        options.setdefault("open_at", start.open_at)
        return TutorApp(
            start.entries,
            lang=start.lang,
            progress=progress,
            source_name="fixtures",
            host=worker_host,
            **options,
        )

    return make
