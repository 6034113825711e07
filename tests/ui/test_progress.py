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
    assert [f.name for f in data_dir.iterdir()] == ["progress.json"]  # no temp file left


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
