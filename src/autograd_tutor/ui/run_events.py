"""The run queue's events, carried to the UI thread as one Textual message.

A lesson's `RunQueue` (core) tells its subscribers on its own thread; the app subscribes
`forward(app, key)`, which wraps each event in a `LessonEvent` and posts it: `post_message`
is thread-safe, keeps the order, and never waits for the UI. The app then applies the event
to the lesson's state on the UI thread. The message names the lesson by key, not by state:
a reload gives the lesson a new state with the same queue, and the events go to that one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.message import Message

from autograd_tutor.core.runqueue import CellStreamed, PlotDrawn, RunEvent


class LessonEvent(Message):
    def __init__(self, lesson_key: str, event: RunEvent) -> None:
        super().__init__()
        self.lesson_key, self.event = lesson_key, event


def forward(app: App[Any], lesson_key: str) -> Callable[[RunEvent], None]:
    """A subscriber for the queue of the lesson `lesson_key`: its events as messages to `app`."""

    def deliver(event: RunEvent) -> None:
        # Streamed pieces and live plots are already in the cell's `LiveOutput`, which the
        # screen draws on a timer: a message per piece would flood the UI's queue when a
        # cell prints in a loop, and the timer throttles the repaints anyway.
        if isinstance(event, (CellStreamed, PlotDrawn)):
            return
        with contextlib.suppress(RuntimeError):  # after exit the loop is closed: nobody to tell
            app.post_message(LessonEvent(lesson_key, event))

    return deliver
