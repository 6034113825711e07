"""Two writers of one learner's progress (two browser tabs, two terminal apps) never lose
each other's work (issue 22.1): each save merges what the other saved since."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from autograd_tutor.core.edits import Edit
from autograd_tutor.core.progress import Progress


def test_two_tabs_keep_each_others_lessons(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    tab1, tab2 = Progress.load(path), Progress.load(path)  # both opened before either saved
    tab1.mark_seen("shipped/tensors")
    tab1.mark_solved("shipped/tensors", "trainable")
    tab1.save()
    tab2.mark_seen("shipped/graph")
    tab2.keep_edit("shipped/graph", "en", 3, Edit("x = 1", "x = 0"))
    tab2.set_last("shipped/graph", 3, "en")
    tab2.save()
    tab1.mark_run("shipped/tensors", 2)
    tab1.save()
    merged = Progress.load(path)
    assert merged.seen("shipped/tensors") and merged.seen("shipped/graph")
    assert merged.solved("shipped/tensors") == {"trainable"}
    assert merged.cells_run("shipped/tensors") == {2}
    assert merged.edits("shipped/graph", "en") == {3: Edit("x = 1", "x = 0")}
    assert merged.last is not None and merged.last.lesson == "shipped/graph"


def test_a_reset_in_one_tab_is_a_reset_for_both(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    tab1, tab2 = Progress.load(path), Progress.load(path)
    tab1.mark_seen("shipped/tensors")
    tab1.save()
    tab2.reset()
    tab2.save()
    assert not Progress.load(path).seen("shipped/tensors")


def _writer(path: str, lesson: str, count: int, both_loaded) -> None:  # noqa: ANN001
    progress = Progress.load(Path(path))
    both_loaded.wait(timeout=60)  # neither has saved yet: each holds only its own steps
    for cell in range(count):
        progress.mark_run(lesson, cell)
        progress.save()


def test_two_processes_saving_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    context = multiprocessing.get_context("spawn")
    both_loaded = context.Barrier(2)
    workers = [
        context.Process(target=_writer, args=(str(path), lesson, 40, both_loaded))
        for lesson in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    merged = Progress.load(path)
    assert merged.cells_run("a") == set(range(40)) and merged.cells_run("b") == set(range(40))
