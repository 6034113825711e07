"""The learner's progress: lessons seen, cells run, exercises solved, edited cells, where
they left off.

Entries are keyed by lesson *and folder* (`lesson_key`): two folders whose lessons share an
id keep their own progress. The shipped lessons' key does not name their folder, which moves
with every install (`shipped/ID`). A file of version 1 keyed by bare ids is read as the
shipped lessons' progress, which is what it was for nearly everyone.

One JSON file under platformdirs' user data dir (or `$AUTOGRAD_TUTOR_DATA`, for tests).
Progress is a convenience, never a reason to stop: a corrupt file is moved aside and the
learner starts afresh, an unwritable one only produces a warning. No Textual here; the app
shows `warning` with a notification.

Two writers of one file (the same learner in two browser tabs, two terminal apps) never lose
each other's work: every change is kept as a step until `save`, which takes a lock, reads
the file as the other writer left it, replays this writer's steps on it and writes that.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from autograd_tutor.core.edits import Edit
from autograd_tutor.core.lesson import Lesson
from autograd_tutor.core.library import shipped_lessons

FILE_NAME = "progress.json"
VERSION = 2
ENV_DIR = "AUTOGRAD_TUTOR_DATA"
SHIPPED_KEY = "shipped/"
LOCK_SECONDS = 2.0  # another writer holds the lock longer than this: write anyway
Change = TypeVar("Change", bound=Callable[..., None])


def _step(change: Change) -> Change:
    """A change of the progress, also kept as a step to replay on the file at `save`."""

    @functools.wraps(change)
    def kept(self: Progress, *args: Any) -> None:
        if not self._replaying:
            self._steps.append((change, args))
        change(self, *args)

    return kept  # type: ignore[return-value]


@cache
def _shipped_folder() -> Path:
    return shipped_lessons().resolve()


def lesson_key(lesson: Lesson) -> str:
    """The key of a lesson's progress: its folder and its id (the library groups a lesson's
    translations by the same pair). The shipped lessons' folder is named `shipped`."""
    folder = lesson.path.parent.resolve()
    if folder == _shipped_folder():
        return SHIPPED_KEY + lesson.id
    return f"{folder}/{lesson.id}"


def _migrated(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 keyed lessons by id alone: those entries are the shipped lessons'."""
    if data.get("version", 1) >= VERSION:
        return data
    lessons = {SHIPPED_KEY + key: entry for key, entry in data["lessons"].items()}
    last = data.get("last")
    if last is not None:
        last = {**last, "lesson": SHIPPED_KEY + last["lesson"]}
    return {**data, "version": VERSION, "lessons": lessons, "last": last}


def data_dir() -> Path:
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("autograd-tutor"))


@dataclass(frozen=True)
class Position:
    """Where the learner was: a lesson, a code cell in it, and the language it was read in."""

    lesson: str
    cell: int
    lang: str


def _empty() -> dict[str, Any]:
    return {"version": VERSION, "lessons": {}, "last": None}


def _valid(data: Any) -> bool:
    """The shape this module writes; anything else is treated as corrupt."""
    if not isinstance(data, dict) or not isinstance(data.get("lessons"), dict):
        return False
    for entry in data["lessons"].values():
        if not isinstance(entry, dict):
            return False
        for key in ("cells_run", "solved"):
            if not isinstance(entry.get(key, []), list):
                return False
        if not isinstance(entry.get("edits", {}), dict):
            return False
    last = data.get("last")
    return last is None or (
        isinstance(last, dict)
        and isinstance(last.get("lesson"), str)
        and isinstance(last.get("cell"), int)
        and isinstance(last.get("lang"), str)
    )


class Progress:
    """Load once, change through the methods, `save()` after each change."""

    def __init__(self, path: Path, data: dict[str, Any] | None = None) -> None:
        self.path = path
        self.data = data if data is not None else _empty()
        # The last problem met, for the app to show once; None when all is well.
        self.warning: str | None = None
        self._write_failed = False
        self._steps: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self._replaying = False

    @classmethod
    def load(cls, path: Path | None = None) -> Progress:
        path = path or data_dir() / FILE_NAME
        progress = cls(path)
        try:
            data = progress._read()
        except FileNotFoundError:
            return progress
        except OSError as exc:
            progress.warning = (
                f"progress could not be read ({exc.strerror or exc}): starting afresh"
            )
            return progress
        if data is None:
            progress.warning = progress._set_aside()
            return progress
        progress.data = data
        return progress

    def _read(self) -> dict[str, Any] | None:
        """The file's progress; None when it is corrupt (OSError when it cannot be read)."""
        raw = self.path.read_bytes()
        try:
            data = json.loads(raw.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        return _migrated(data) if _valid(data) else None

    def _set_aside(self) -> str:
        """Keep a corrupt file for inspection instead of overwriting it."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            return f"progress file {self.path} is corrupt and could not be moved aside ({exc}): starting afresh"
        return f"progress file was corrupt: kept as {aside.name}, starting afresh"

    # -- reading -----------------------------------------------------------------------

    def _lesson(self, lesson_id: str) -> dict[str, Any]:
        return self.data["lessons"].setdefault(
            lesson_id, {"seen": False, "cells_run": [], "solved": []}
        )

    def seen(self, lesson_id: str) -> bool:
        return bool(self.data["lessons"].get(lesson_id, {}).get("seen"))

    def cells_run(self, lesson_id: str) -> set[int]:
        return set(self.data["lessons"].get(lesson_id, {}).get("cells_run", []))

    def solved(self, lesson_id: str) -> set[str]:
        return set(self.data["lessons"].get(lesson_id, {}).get("solved", []))

    def edits(self, lesson_id: str, lang: str) -> dict[int, Edit]:
        """The learner's kept edits of the lesson in `lang`: cell index -> edit. An entry
        of another shape (a hand-edited file) is skipped, not a reason to drop the rest."""
        kept = self.data["lessons"].get(lesson_id, {}).get("edits", {}).get(lang, {})
        found = {}
        for index, edit in kept.items() if isinstance(kept, dict) else ():
            if (
                index.isdigit()
                and isinstance(edit, dict)
                and isinstance(edit.get("code"), str)
                and isinstance(edit.get("base"), str)
            ):
                found[int(index)] = Edit(edit["code"], edit["base"])
        return found

    @property
    def last(self) -> Position | None:
        last = self.data.get("last")
        return Position(last["lesson"], last["cell"], last["lang"]) if last else None

    # -- changing ----------------------------------------------------------------------

    @_step
    def mark_seen(self, lesson_id: str) -> None:
        self._lesson(lesson_id)["seen"] = True

    @_step
    def mark_run(self, lesson_id: str, cell: int) -> None:
        entry = self._lesson(lesson_id)
        if cell not in entry["cells_run"]:
            entry["cells_run"] = sorted({*entry["cells_run"], cell})

    @_step
    def mark_solved(self, lesson_id: str, exercise: str) -> None:
        entry = self._lesson(lesson_id)
        if exercise not in entry["solved"]:
            entry["solved"] = sorted({*entry["solved"], exercise})

    @_step
    def keep_edit(self, lesson_id: str, lang: str, cell: int, edit: Edit | None) -> None:
        """Keep the learner's code of a cell (None: the cell has the lesson's code again)."""
        entry = self._lesson(lesson_id)
        kept = entry.setdefault("edits", {}).setdefault(lang, {})
        if edit is not None:
            kept[str(cell)] = {"code": edit.code, "base": edit.base}
            return
        kept.pop(str(cell), None)
        if not kept:
            del entry["edits"][lang]

    @_step
    def set_last(self, lesson_id: str, cell: int, lang: str) -> None:
        self.data["last"] = {"lesson": lesson_id, "cell": cell, "lang": lang}

    @_step
    def reset(self) -> None:
        self.data = _empty()

    def save(self) -> str | None:
        """Merge this writer's steps into the file as it is now and write it atomically; the
        warning if it failed (reported once, then kept quiet)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                self._merge_with_file()
                fd, tmp = tempfile.mkstemp(
                    prefix=".progress-", suffix=".tmp", dir=self.path.parent
                )
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as out:
                        json.dump(self.data, out, indent=1, sort_keys=True)
                    os.replace(tmp, self.path)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
            self._steps.clear()
        except OSError as exc:
            if self._write_failed:
                return None
            self._write_failed = True
            self.warning = (
                f"progress cannot be saved ({exc.strerror or exc}): it lasts until you quit"
            )
            return self.warning
        self._write_failed = False
        return None

    def _merge_with_file(self) -> None:
        """What another writer saved since, with this writer's steps replayed on top."""
        try:
            theirs = self._read()
        except OSError:
            theirs = None  # no file yet, or unreadable: ours is all there is
        if theirs is None or theirs == self.data:
            return
        self.data, self._replaying = theirs, True
        try:
            for change, args in self._steps:
                change(self, *args)
        finally:
            self._replaying = False

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An advisory lock beside the file, waited for at most LOCK_SECONDS."""
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + LOCK_SECONDS
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        break  # a stuck writer must not stop this one saving
                    time.sleep(0.01)
            yield
        finally:
            os.close(fd)  # releases the lock

    # -- predictions (docs/authoring.md, "Predictions") ---------------------------------

    def predictions(self, lesson_id: str) -> dict[str, tuple[str, bool]]:
        """Each prediction made in the lesson: its name -> (the guess, whether it was right).
        Entries of another shape (a hand-edited file) are left out, never a reason to stop."""
        found = self.data["lessons"].get(lesson_id, {}).get("predictions", {})
        if not isinstance(found, dict):
            return {}
        return {
            name: (entry["guess"], entry["right"])
            for name, entry in found.items()
            if isinstance(entry, dict)
            and isinstance(entry.get("guess"), str)
            and isinstance(entry.get("right"), bool)
        }

    @_step
    def record_prediction(self, lesson_id: str, name: str, guess: str, right: bool) -> None:
        entry = self._lesson(lesson_id)
        if not isinstance(entry.get("predictions"), dict):
            entry["predictions"] = {}
        entry["predictions"][name] = {"guess": guess, "right": right}
