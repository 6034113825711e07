"""The learning-rate explorer on the syllabus data, through a real worker session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autograd_tutor.core.explorer import Explorer, parse_finals
from autograd_tutor.core.runner.client import Session, WorkerHost


@pytest.fixture
def session(worker_host: WorkerHost) -> Iterator[Session]:
    s = worker_host.new_session()
    yield s
    s.close()


def test_rates_diverge_and_converge(session) -> None:
    explorer = Explorer(rates=[0.01, 0.1], epochs=100)
    result = session.run(explorer.code(), timeout=60)
    assert result.status == "ok", result.error
    finals = parse_finals(result.stdout)
    assert finals["0.1"]["diverged"] is True  # lr 0.1 explodes on this data
    good = finals["0.01"]
    assert not good["diverged"] and abs(good["a"] - 2) < 0.1 and abs(good["b"] - 1) < 0.25
    (plot,) = (p.figure for p in result.plots)
    assert plot["logy"] is True
    assert sorted(s["label"] for s in plot["series"]) == ["lr=0.01", "lr=0.1"]
    assert all(len(s["points"]) == 100 for s in plot["series"])


def test_keys_change_the_choice() -> None:
    explorer = Explorer()
    explorer.cursor = 0.01
    explorer.step_rate(+1)
    assert explorer.cursor == 0.03
    explorer.toggle()
    assert 0.03 in explorer.rates
    explorer.toggle()
    assert 0.03 not in explorer.rates
    explorer.change_epochs(2)
    assert explorer.epochs == 200
    explorer.change_epochs(0.001)
    assert explorer.epochs == 10
