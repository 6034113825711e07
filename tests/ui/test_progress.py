"""core.progress: a JSON file that never stops the app."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from autograd_tutor.core.progress import Position, Progress, data_dir


def test_data_dir_follows_the_environment(data_dir: Path) -> None:
    from autograd_tutor.core import progress

    assert progress.data_dir() == data_dir


def test_round_trip(data_dir: Path) -> None:
    p = Progress.load()
    assert p.warning is None and p.last is None
    p.mark_seen("tensors")
    p.mark_run("tensors", 3)
    p.mark_run("tensors", 1)
    p.mark_run("tensors", 3)
    p.mark_solved("tensors", "trainable")
    p.set_last("tensors", 3, "zh")
    assert p.save() is None
    again = Progress.load()
    assert again.seen("tensors") and not again.seen("graph")
    assert again.cells_run("tensors") == {1, 3}
    assert again.solved("tensors") == {"trainable"}
    assert again.last == Position("tensors", 3, "zh")
    # no temp file left; the lock file beside it stays (two writers, tests/test_progress_writers.py)
    assert sorted(f.name for f in data_dir.iterdir()) == ["progress.json", "progress.json.lock"]


def test_reset(data_dir: Path) -> None:
    p = Progress.load()
    p.mark_seen("a")
    p.set_last("a", 0, "en")
    p.reset()
    p.save()
    again = Progress.load()
    assert not again.seen("a") and again.last is None


@pytest.mark.parametrize("content", ["{oops", '["a list"]', '{"lessons": {"x": 3}}', "\xff\xfe"])
def test_corrupt_file_is_kept_aside(data_dir: Path, content: str) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "progress.json").write_text(content, encoding="latin-1")
    p = Progress.load()
    assert p.warning and "corrupt" in p.warning
    aside = list(data_dir.glob("progress.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text(encoding="latin-1") == content
    p.mark_seen("a")
    assert p.save() is None
    assert json.loads((data_dir / "progress.json").read_text())["lessons"]["a"]["seen"]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder_warns_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    monkeypatch.setenv("AUTOGRAD_TUTOR_DATA", str(folder))
    try:
        p = Progress.load()
        p.mark_seen("a")
        assert p.save() and "cannot be saved" in str(p.warning)
        assert p.save() is None  # said once
        assert p.seen("a")  # still known for this run
    finally:
        folder.chmod(0o700)


def test_unwritable_path_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A file where the folder should be: fails for root too.
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("AUTOGRAD_TUTOR_DATA", str(blocker / "sub"))
    p = Progress.load()
    assert p.warning and "could not be read" in p.warning
    p.mark_seen("a")
    warning = p.save()
    assert warning and "cannot be saved" in warning
    assert data_dir() == blocker / "sub"


def test_a_version_1_file_is_the_shipped_lessons_progress(data_dir: Path) -> None:
    from autograd_tutor.core.library import load, shipped_lessons
    from autograd_tutor.core.progress import lesson_key

    data_dir.mkdir(parents=True)
    old = {
        "version": 1,
        "lessons": {"tensors": {"seen": True, "cells_run": [0, 2], "solved": ["x"]}},
        "last": {"lesson": "tensors", "cell": 2, "lang": "zh"},
    }
    (data_dir / "progress.json").write_text(json.dumps(old))
    p = Progress.load()
    assert p.warning is None
    shipped = next(e for e in load([shipped_lessons()]) if e.id == "tensors").pick("en")
    assert shipped is not None and lesson_key(shipped) == "shipped/tensors"
    assert p.seen("shipped/tensors") and p.cells_run("shipped/tensors") == {0, 2}
    assert p.solved("shipped/tensors") == {"x"} and not p.seen("tensors")
    assert p.last == Position("shipped/tensors", 2, "zh")
    p.save()
    assert json.loads((data_dir / "progress.json").read_text())["version"] == 2


def test_two_folders_with_the_same_lesson_id_keep_their_own_progress(
    data_dir: Path, tmp_path: Path
) -> None:
    from autograd_tutor.core.library import load
    from autograd_tutor.core.progress import lesson_key

    from .helpers import BASICS

    for name in ("course-a", "course-b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / BASICS.name).write_text(BASICS.read_text())
    a, b = (load([tmp_path / n])[0].pick("en") for n in ("course-a", "course-b"))
    assert a is not None and b is not None and a.id == b.id == "basics"
    assert lesson_key(a) != lesson_key(b)
    p = Progress.load()
    p.mark_seen(lesson_key(a))
    p.mark_run(lesson_key(a), 1)
    p.save()
    again = Progress.load()
    assert again.seen(lesson_key(a)) and again.cells_run(lesson_key(a)) == {1}
    assert not again.seen(lesson_key(b)) and again.cells_run(lesson_key(b)) == set()


def test_edits_are_kept_per_lesson_and_language(data_dir: Path) -> None:
    from autograd_tutor.core.edits import Edit

    p = Progress.load()
    p.keep_edit("shipped/tensors", "en", 2, Edit("x = 3", "x = 1"))
    p.keep_edit("shipped/tensors", "zh", 2, Edit("x = 4", "x = 1"))
    p.save()
    again = Progress.load()
    assert again.edits("shipped/tensors", "en") == {2: Edit("x = 3", "x = 1")}
    assert again.edits("shipped/tensors", "zh") == {2: Edit("x = 4", "x = 1")}
    assert again.edits("shipped/graph", "en") == {}
    again.keep_edit("shipped/tensors", "en", 2, None)
    again.save()
    assert Progress.load().edits("shipped/tensors", "en") == {}
