"""The run queue against the real worker, no Textual: order, interrupts, graphs, restarts,
exercises with their checks, and a session that dies under a cell."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograd_tutor.core.lesson import Lesson
from autograd_tutor.core.lessonrun import LessonRun
from autograd_tutor.core.parser import parse_text
from autograd_tutor.core.runner.client import WorkerHost
from autograd_tutor.core.runqueue import (
    CellFinished,
    CellStarted,
    CellStreamed,
    GraphReady,
    QueueIdle,
    RunCell,
    RunEvent,
    RunQueue,
    SessionRestarted,
    TensorsUpdated,
)

WAIT = 60.0  # seconds for one event: a loaded machine forks sessions slowly

LESSON = """---
title: Queue
id: queue
---

# Queue

```python
import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = (x * 3).sum()
```

```python
import time
for i in range(600):
    print("tick", i, flush=True)
    time.sleep(0.05)
```

```python
import os; os._exit(3)
```

```python
z = 1
```

Make `w` twice `x`.

```python exercise="double"
w = None
```

```python check="double"
assert w is not None and torch.equal(w, x * 2), "w must be x * 2"
```

```python solution="double"
w = x * 2
```
"""
SETUP, SLOW, DIE, PLAIN, EXERCISE, CHECK = range(6)


@pytest.fixture
def lesson(tmp_path: Path) -> Lesson:
    path = tmp_path / "01-queue.en.md"
    path.write_text(LESSON)
    return parse_text(LESSON, path)


class Heard:
    """A subscriber: every event, in order, waited for by kind."""

    def __init__(self, run_queue: RunQueue) -> None:
        self.events: queue.Queue[RunEvent] = queue.Queue()
        self.seen: list[RunEvent] = []
        run_queue.subscribe(self.events.put)

    def until(self, kind: type, predicate=lambda event: True) -> RunEvent:  # noqa: ANN001
        deadline = time.monotonic() + WAIT
        while True:
            event = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            self.seen.append(event)
            if isinstance(event, kind) and predicate(event):
                return event

    def finished(self, index: int) -> CellFinished:
        event = self.until(CellFinished, lambda e: e.index == index)
        assert isinstance(event, CellFinished)
        return event


@pytest.fixture
def run_queue(worker_host: WorkerHost, lesson: Lesson) -> Iterator[RunQueue]:
    run_queue = RunQueue(LessonRun(worker_host, lesson))
    yield run_queue
    run_queue.close()


def printed(started: CellStarted) -> str:
    """What the started cell has printed so far (its live output)."""
    return "".join(text for _, text in list(started.live.streams))


def ask(lesson: Lesson, index: int, code: str | None = None, **options: object) -> RunCell:
    cell = lesson.cells[index]
    return RunCell(cell, cell.source if code is None else code, **options)  # type: ignore[arg-type]


def test_cells_run_in_order_then_tensors_then_idle(run_queue: RunQueue, lesson: Lesson) -> None:
    heard = Heard(run_queue)
    run_queue.submit(ask(lesson, SETUP), ask(lesson, PLAIN))
    assert heard.finished(SETUP).result.status == "ok"
    heard.until(TensorsUpdated)
    assert heard.finished(PLAIN).result.status == "ok"
    tensors = heard.until(TensorsUpdated)
    assert isinstance(tensors, TensorsUpdated)
    assert {row["name"] for row in tensors.rows} >= {"x", "y"}
    heard.until(QueueIdle)
    kinds = [type(e).__name__ for e in heard.seen]
    assert kinds == [
        "CellStarted",
        "CellFinished",
        "TensorsUpdated",
        "CellStarted",
        "CellFinished",
        "TensorsUpdated",
        "QueueIdle",
    ]
    assert not run_queue.busy and not run_queue.pending


def test_live_output_streams_then_interrupt_keeps_the_session_and_a_queued_graph(
    run_queue: RunQueue, lesson: Lesson
) -> None:
    heard = Heard(run_queue)
    run_queue.submit(ask(lesson, SETUP), ask(lesson, SLOW), ask(lesson, PLAIN))
    heard.finished(SETUP)
    started = heard.until(CellStarted, lambda e: e.index == SLOW)
    assert isinstance(started, CellStarted)
    # A pipe read may cut a line anywhere: the pieces are read together.
    heard.until(CellStreamed, lambda e: "tick 3" in printed(started))
    pieces = "".join(e.text for e in heard.seen if isinstance(e, CellStreamed))
    assert printed(started).startswith(pieces) and "tick 0" in pieces  # the same, live
    run_queue.fetch_graph("y")  # behind the running cell and the queued one
    stopped = run_queue.interrupt()
    assert stopped.running == SLOW and stopped.dropped == (PLAIN,)
    slow = heard.finished(SLOW).result
    assert slow.interrupted and slow.error is not None
    assert slow.error.type == "KeyboardInterrupt"
    graph = heard.until(GraphReady)
    assert isinstance(graph, GraphReady) and graph.name == "y"
    assert graph.graph.get("nodes"), graph.graph  # read from the live session
    heard.until(QueueIdle)
    assert not any(isinstance(e, CellStarted) and e.index == PLAIN for e in heard.seen)
    assert run_queue.run.session is not None and run_queue.run.session.alive


def test_interrupt_with_nothing_running(run_queue: RunQueue) -> None:
    stopped = run_queue.interrupt()
    assert stopped.running is None and stopped.dropped == ()


def test_a_dying_session_crashes_its_cell_and_the_next_cell_gets_a_fresh_one(
    run_queue: RunQueue, lesson: Lesson
) -> None:
    heard = Heard(run_queue)
    run_queue.submit(ask(lesson, SETUP), ask(lesson, DIE))
    heard.finished(SETUP)
    died = heard.finished(DIE)
    assert died.result.status == "crashed" and not died.session_alive
    assert heard.until(TensorsUpdated).rows == ()  # type: ignore[attr-defined]
    run_queue.fetch_graph("y")
    note = heard.until(GraphReady)
    assert "no session" in note.graph["note"]  # type: ignore[attr-defined]
    heard.until(QueueIdle)

    run_queue.submit(ask(lesson, PLAIN))
    after = heard.finished(PLAIN)
    assert after.result.status == "ok" and after.session_alive
    assert after.result.fresh_session  # not asked for: the learner is told


def test_restart_gives_a_fresh_namespace_that_was_asked_for(
    run_queue: RunQueue, lesson: Lesson
) -> None:
    heard = Heard(run_queue)
    run_queue.submit(ask(lesson, SETUP))
    heard.finished(SETUP)
    first = run_queue.run.session
    run_queue.restart()
    heard.until(SessionRestarted)
    assert first is not None and not first.alive
    run_queue.submit(ask(lesson, PLAIN, code="x"))
    result = heard.finished(PLAIN).result
    assert result.error is not None and result.error.type == "NameError"
    assert not result.fresh_session


def test_an_exercise_runs_its_check_and_the_followed_graph_is_refreshed(
    run_queue: RunQueue, lesson: Lesson
) -> None:
    heard = Heard(run_queue)
    check = lesson.cells[CHECK]
    run_queue.follow_graph("w")
    run_queue.submit(ask(lesson, SETUP), ask(lesson, EXERCISE, code="w = x * 2", check=check))
    heard.finished(EXERCISE)
    solved = heard.finished(CHECK).result
    assert solved.status == "ok" and solved.solved
    heard.until(TensorsUpdated)
    graph = heard.until(GraphReady, lambda e: e.name == "w")
    assert graph.graph.get("nodes")  # type: ignore[attr-defined]

    run_queue.submit(ask(lesson, EXERCISE, check=check))  # `w = None`: not solved
    heard.finished(EXERCISE)
    unsolved = heard.finished(CHECK).result
    assert unsolved.status == "error" and not unsolved.solved
    assert unsolved.error is not None and unsolved.error.type == "AssertionError"


def test_close_stops_the_running_cell_and_starts_nothing_more(
    worker_host: WorkerHost, lesson: Lesson
) -> None:
    run_queue = RunQueue(LessonRun(worker_host, lesson))
    heard = Heard(run_queue)
    run_queue.submit(ask(lesson, SETUP), ask(lesson, SLOW), ask(lesson, PLAIN))
    started = heard.until(CellStarted, lambda e: e.index == SLOW)
    assert isinstance(started, CellStarted)
    heard.until(CellStreamed, lambda e: "tick 1" in printed(started))
    run_queue.close()
    assert heard.finished(SLOW).result.status != "ok"
    heard.until(QueueIdle)
    assert not any(isinstance(e, CellStarted) and e.index == PLAIN for e in heard.seen)
    assert not run_queue.busy and run_queue.run.session is not None
    assert not run_queue.run.session.alive


def test_ran_is_the_cells_of_the_current_session(run_queue: RunQueue, lesson: Lesson) -> None:
    heard = Heard(run_queue)
    assert run_queue.ran == frozenset()  # no session yet
    run_queue.submit(ask(lesson, SETUP), ask(lesson, PLAIN))
    heard.finished(PLAIN)
    heard.until(QueueIdle)
    assert run_queue.ran == {SETUP, PLAIN}
    run_queue.restart()
    heard.until(SessionRestarted)
    heard.until(QueueIdle)
    assert run_queue.ran == frozenset()  # a fresh session has run nothing


def test_a_setup_cell_that_fails_drops_the_rest_of_its_chain(
    run_queue: RunQueue, lesson: Lesson
) -> None:
    from autograd_tutor.core.runqueue import ChainStopped

    heard = Heard(run_queue)
    run_queue.submit(
        ask(lesson, SETUP, chain=PLAIN, setup=True),
        ask(lesson, DIE, chain=PLAIN, setup=True),
        ask(lesson, PLAIN, chain=PLAIN),
        ask(lesson, SETUP),  # not of the chain: still runs
    )
    heard.finished(DIE)
    stopped = heard.until(ChainStopped)
    assert stopped == ChainStopped(DIE, PLAIN, (PLAIN,))
    assert heard.finished(SETUP).result.status == "ok"
    heard.until(QueueIdle)
    assert not any(isinstance(e, CellStarted) and e.index == PLAIN for e in heard.seen)
    assert run_queue.ran == {SETUP}  # in the fresh session after the crash
