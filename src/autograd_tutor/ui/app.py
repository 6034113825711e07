"""The tutor app: owns the worker host, the lessons' states and the learner's progress.

Screens draw; the app decides. Each lesson's cells run in its run queue (`core.runqueue`),
whose events come back as messages (`run_events`) handled here, so the state changes only
on the UI thread; then the lesson's `view` (its screen, when one shows it) repaints.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.command import CommandPalette
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen

from autograd_tutor.core.lessonrun import LessonRun
from autograd_tutor.core.library import Entry
from autograd_tutor.core.progress import Progress, lesson_key
from autograd_tutor.core.runner.client import DEFAULT_TIMEOUT, WorkerHost
from autograd_tutor.core.runqueue import (
    CellFinished,
    CellStarted,
    ChainStopped,
    GraphReady,
    QueueIdle,
    RunQueue,
    SessionRestarted,
    TensorsUpdated,
)
from autograd_tutor.core.safe_text import clean, one_line
from autograd_tutor.core.tensor_rows import changed
from autograd_tutor.core.watch import watch
from autograd_tutor.ui import commands, flow, keys, linebreak, reload
from autograd_tutor.ui.i18n import N_, _, set_language
from autograd_tutor.ui.run_events import LessonEvent, forward
from autograd_tutor.ui.screens.help import HelpScreen
from autograd_tutor.ui.screens.lesson import LessonScreen
from autograd_tutor.ui.screens.lessons import LessonListScreen
from autograd_tutor.ui.startup import picked
from autograd_tutor.ui.state import Judgement, LessonState, PanelChoices
from autograd_tutor.ui.widgets.status import worded

# Sessions kept alive for lessons the learner left (each is a forked process).
LIVE_SESSIONS = 3
SAVE_DELAY = 1.0  # seconds: moving the cursor saves the position at most this often


class LessonsChanged(Message):
    def __init__(self, paths: set[Path]) -> None:
        super().__init__()
        self.paths = paths


class WorkerState(Message):
    def __init__(self, status: str, details: str = "") -> None:
        super().__init__()
        self.status, self.details = status, details


class TutorApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "autograd-tutor"
    BINDINGS = keys.APP

    # English: the status bar words it in the learner's language (widgets/status.py).
    worker_status: reactive[str] = reactive(N_("worker: starting (importing torch)…"))
    cell_timeout: float = DEFAULT_TIMEOUT  # seconds a cell may run (tests shorten it)

    def __init__(
        self,
        entries: list[Entry],
        *,
        lang: str,
        progress: Progress,
        source_name: str = "lessons",
        open_at: tuple[int, int] | None = None,
        host: WorkerHost | None = None,
        close_host: bool = False,
        show_times: bool = True,
        stable_status: bool = False,
    ) -> None:
        super().__init__()
        self.entries = entries
        self.lang = lang
        set_language(lang)  # the app's own words follow the lessons' language
        linebreak.install()  # Chinese prose wraps between characters, with kinsoku rules
        self.lessons = picked(entries, lang)
        self.progress = progress
        self.source_name = source_name
        self.open_at = open_at
        # A host passed in (tests share one) is not ours to close, unless told: a learner's
        # connection to the class's shared host is.
        self.host = host or WorkerHost()
        self._own_host = host is None or close_host
        # Snapshot tests: no durations, and no machine-dependent sandbox report on screen.
        self.show_times = show_times
        self.stable_status = stable_status
        self.sandbox_details = ""
        self.states: dict[str, LessonState] = {}
        self._recent: list[str] = []
        self._last_index: int | None = None
        self._save_timer: Any = None
        # The tensor inspector is the learner's choice for every lesson, not one lesson's.
        self.panel_choices = PanelChoices()
        # The bottom of the stack, made once: lessons open on top of it, progress refills it.
        self.lesson_list = LessonListScreen()
        self._watch_stop = threading.Event()

    # -- start and stop ----------------------------------------------------------------

    def on_mount(self) -> None:
        self.host.start()  # returns at once; torch imports in the worker meanwhile
        self._wait_for_worker()
        if self.open_at is not None and self.open_at[0] < len(self.lessons):
            self.open_lesson(*self.open_at)
        if self.progress.warning:
            self.notify(self.progress.warning, title=_("Progress"), severity="warning", timeout=10)
        self._watch_lessons()

    def _watch_lessons(self) -> None:
        """Authors edit a lesson in another terminal: the open lesson follows their saves.

        A plain daemon thread, not a Textual worker: it blocks in the file watcher until
        `_watch_stop` is set, and the app must never wait for it to quit.
        """

        def changed(paths: set[Path]) -> None:
            # post_message is safe from any thread, also while the app is quitting.
            self.post_message(LessonsChanged(paths))

        threading.Thread(
            target=watch,
            args=(reload.watched_files(self), changed, self._watch_stop),
            name="lesson-watch",
            daemon=True,
        ).start()

    def get_default_screen(self) -> Screen:
        return self.lesson_list

    @work(thread=True, group="host", exit_on_error=False)
    def _wait_for_worker(self) -> None:
        try:
            info = self.host.wait_ready()
            report = self.host.sandbox_report()  # lessons need their own read paths
        except Exception as exc:  # noqa: BLE001 - shown to the learner; the UI goes on
            self._post(WorkerState(f"worker failed: {exc}"))  # worded by the status bar
            return
        # Served to a class: the class's limits are part of what the learner's cells get.
        classroom = [str(line) for line in info.get("classroom", [])]
        if isinstance(info.get("cell_seconds"), (int, float)):
            self.cell_timeout = float(info["cell_seconds"])
        details = "\n".join([f"torch {info.get('torch', '?')}", *report.details(), *classroom])
        self._post(WorkerState(report.headline(), details))

    def _post(self, message: Message) -> None:
        with contextlib.suppress(RuntimeError):
            self.post_message(message)  # after exit the loop is closed: nobody is left to tell

    def on_worker_state(self, message: WorkerState) -> None:
        self.sandbox_details = message.details
        failed = message.status.startswith("worker failed")
        self.worker_status = (
            N_("worker: ready") if self.stable_status and not failed else message.status
        )
        if failed:
            self.notify(
                message.status, title=_("The worker did not start"), severity="error", timeout=15
            )

    def on_lessons_changed(self, message: LessonsChanged) -> None:
        reload.reload_changed(self, message.paths)

    def on_unmount(self) -> None:
        self._watch_stop.set()
        for state in self.states.values():
            flow.keep_edits(self.progress, state)  # also an edit still in the editor
        self._save_progress()
        for state in self.states.values():
            state.queue.close()  # the relay ends its cell process; waiting threads wake up
        if self._own_host:
            self.host.close()

    # -- lessons -----------------------------------------------------------------------

    def state_for(self, index: int) -> LessonState:
        lesson = self.lessons[index]
        key = str(lesson.path)
        if key not in self.states:
            queue = RunQueue(LessonRun(self.host, lesson))
            # By key: a reload replaces the state and keeps the queue (see run_events).
            queue.subscribe(forward(self, key))
            state = LessonState.create(lesson, queue)
            state.restore_solved(self.progress.solved(lesson_key(lesson)))
            notice = flow.restore_edits(self.progress, state)
            if notice:
                self.notify(notice, title=_("Your edits"), severity="warning", timeout=10)
            self.states[key] = state
        if key in self._recent:
            self._recent.remove(key)
        self._recent.append(key)
        for old in self._recent[:-LIVE_SESSIONS]:
            state = self.states[old]
            if not state.busy and state.run.session is not None:
                state.run.close()  # its next cell will say it ran in a fresh session
                state.tensors, state.changed = [], set()  # gone with the session
        return self.states[key]

    def open_lesson(self, index: int, cell: int | None = None) -> None:
        if not 0 <= index < len(self.lessons):
            return
        state = self.state_for(index)
        if cell is not None:
            state.cursor = max(0, min(cell, len(state.cells) - 1))
        self._last_index = index
        self.progress.mark_seen(state.progress_key)
        self.remember_position(state)
        self._save_progress()
        screen = LessonScreen(state)
        if isinstance(self.screen, LessonScreen):
            self.switch_screen(screen)
        else:
            self.show_list()
            self.push_screen(screen)

    def step_lesson(self, state: LessonState, delta: int) -> None:
        index = self.lessons.index(state.lesson) + delta
        if 0 <= index < len(self.lessons):
            self.open_lesson(index)
        else:
            self.notify(
                _("That was the last lesson.") if delta > 0 else _("This is the first lesson.")
            )

    def show_list(self) -> None:
        while len(self.screen_stack) > 1 and self.screen is not self.lesson_list:
            self.pop_screen()

    def current_lesson_index(self) -> int | None:
        return self._last_index

    # -- progress ----------------------------------------------------------------------

    def remember_position(self, state: LessonState) -> None:
        self.progress.set_last(state.progress_key, state.cursor, self.lang)
        if self._save_timer is None:
            self._save_timer = self.set_timer(SAVE_DELAY, self._save_progress)

    def keep_edits(self, state: LessonState) -> None:
        """The learner left the editor or reset a cell: the progress keeps the lesson's edits."""
        flow.keep_edits(self.progress, state)
        self._save_progress()

    def _save_progress(self) -> None:
        self._save_timer = None
        warning = self.progress.save()
        if warning:
            self.notify(warning, title=_("Progress"), severity="warning", timeout=10)

    def reset_progress(self) -> None:
        self.progress.reset()
        self._save_progress()
        if self.lesson_list.is_mounted:
            self.lesson_list.fill()
        self.notify(_("Progress reset: no lesson seen, no exercise solved."))

    # -- events from the lessons' run queues ----------------------------------------------

    def on_lesson_event(self, message: LessonEvent) -> None:
        state = self.states.get(message.lesson_key)
        if state is None:
            return
        event, view = message.event, state.view
        if isinstance(event, CellStarted):
            state.cell_started(event.index, event.live)
            # Most cells finish within a millisecond or two: painting "running" first would
            # cost a frame, and Textual's frame rate then holds the output back a whole
            # frame period. A cell still running after this short wait is painted then.
            if view is not None:
                view.paint_if_busy_soon(event.index)
        elif isinstance(event, CellFinished):
            self._cell_finished(state, event)
        elif isinstance(event, TensorsUpdated):
            # Pure comparison of fingerprints (no torch): new tensors and changed ones.
            rows = list(event.rows)
            state.changed = changed(state.tensors, rows)
            state.tensors = rows
            if view is not None:
                view.show_tensors()
        elif isinstance(event, GraphReady):
            if state.graph_ready(event.name, event.graph) and view is not None:
                view.show_graph()
        elif isinstance(event, SessionRestarted):
            state.session_restarted()
            if view is not None:
                view.show_tensors()
                view.show_graph()
            self.notify(
                _(
                    "Fresh session: no variables yet. Run the cells again from the top "
                    "({key} runs up to the current cell)."
                ).format(key=keys.RUN_UPTO),
                title=_("Session restarted"),
            )
        elif isinstance(event, ChainStopped):
            state.chain_stopped(event.dropped)
            if view is not None:
                for index in event.dropped:
                    view.repaint_cell(index)
            self.notify(flow.chain_notice(event), title=_("Stopped"), severity="error", timeout=10)
        elif isinstance(event, QueueIdle):
            state.queue_idle()

    def _cell_finished(self, state: LessonState, event: CellFinished) -> None:
        result = event.result
        judgement = state.cell_finished(event.index, result)
        self.progress.mark_run(state.progress_key, event.index)
        if judgement is not None:
            self._judged(state, judgement)
        self._save_progress()
        if not event.session_alive:
            self.notify(
                _(
                    "The session ended ({status}). The next cell starts a fresh one: "
                    "press {key} on a cell to run the cells up to it again."
                ).format(status=_(result.status), key=keys.RUN_UPTO),
                title=_("Session ended"),
                severity="error",
                timeout=10,
            )
        if state.view is not None:
            # A check changes its exercise's cells; a death or a fresh session, notices.
            others = (
                state.cells[event.index].cell.role != "code"
                or not event.session_alive
                or result.fresh_session
            )
            state.view.cell_finished(event.index, others)

    def _judged(self, state: LessonState, judgement: Judgement) -> None:
        if not judgement.solved:
            return
        self.progress.mark_solved(state.progress_key, judgement.exercise)
        if judgement.first:
            self.notify(
                _("Exercise {name} solved! Its reference solution is now shown.").format(
                    name=judgement.exercise
                ),
                title="★ " + _("Solved"),
            )

    # -- app actions ---------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # Every notice of every screen comes here: never markup, through the one sanitiser.
        message, title = clean(message), one_line(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def set_theme(self, name: str) -> None:
        self.theme = name

    def show_sandbox(self) -> None:
        self.notify(
            self.sandbox_details or _("The worker is still starting."),
            title=worded(self.worker_status),
        )

    def action_command_palette(self) -> None:
        # Textual's own, with its search field's words in the learner's language.
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=_("Search for commands…"))
            )

    def action_switch_language(self) -> None:
        commands.switch_language(self, "zh" if self.lang == "en" else "en")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from commands.textuals(super().get_system_commands(screen))
        yield from commands.commands(self, screen)
