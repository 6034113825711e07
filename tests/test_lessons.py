"""The shipped curriculum: every syllabus topic, in both languages, with exercises."""

from __future__ import annotations

import pytest

from autograd_tutor.core.lesson import code_without_comments
from autograd_tutor.core.library import load, shipped_lessons

ENTRIES = load([shipped_lessons()])
SYLLABUS = [
    "tensors", "graph", "leaf-detach", "backward", "no-grad",
    "accumulate", "inplace", "descent", "linear-regression", "optim",
    # Curriculum II
    "chain-rule", "stop-gradient", "custom-function", "higher-order", "gradient-traps",
    "capstone",
]


def test_no_broken_lessons() -> None:
    assert [str(e) for entry in ENTRIES for e in entry.broken] == []


def test_every_topic_in_order() -> None:
    assert [e.id for e in ENTRIES] == SYLLABUS


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_both_languages_share_code(entry) -> None:
    assert set(entry.versions) == {"en", "zh"}
    en, zh = entry.versions["en"], entry.versions["zh"]
    # The same code, comments aside: a translation comments in its own language.
    for a, b in zip(en.cells, zh.cells):
        assert code_without_comments(a.source) == code_without_comments(b.source), b.line
        assert a.metadata == b.metadata, b.line
    assert len(en.cells) == len(zh.cells)
    assert [(w.exercise, code_without_comments(w.source)) for w in en.wrong] == [
        (w.exercise, code_without_comments(w.source)) for w in zh.wrong
    ]
    assert en.title != zh.title  # translated, not copied
    assert en.exercises, "at least one exercise per lesson"
    for exercise in en.exercises:
        assert exercise.solution is not None and exercise.hints
    assert len(en.exercises[0].hints) == len(zh.exercises[0].hints)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_every_exercise_has_three_graduated_hints(entry) -> None:
    # issue 13: a question first, then the concept, then the code; in every language
    for lesson in entry.versions.values():
        for exercise in lesson.exercises:
            hints = [h.text for h in exercise.hints]
            where = f"{lesson.path.name}: exercise {exercise.name!r}"
            assert len(hints) == 3, f"{where} has {len(hints)} hints, not 3"
            assert "?" in hints[0] or "？" in hints[0], f"{where}: the first hint is not a question"
            assert "`" in hints[2], f"{where}: the last hint shows no code"


def test_exercise_names_are_unique_across_lessons() -> None:
    names = [ex.name for entry in ENTRIES for ex in entry.versions["en"].exercises]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_every_lesson_asks_for_a_prediction_in_both_languages(entry) -> None:
    en, zh = entry.versions["en"], entry.versions["zh"]
    assert en.predictions and zh.predictions, "at least one prediction per lesson"
    keys = [[(p.name, p.cell, p.kind, p.answer, p.tol) for p in v.predictions] for v in (en, zh)]
    assert keys[0] == keys[1]  # the same answer keys in every translation
    for p, q in zip(en.predictions, zh.predictions):
        assert p.question != q.question and p.explanation != q.explanation  # translated


# Curriculum III: these two fail on the `wrongcells` branch until the lesson branches
# (lessons-a, lessons-b, capstone, newlessons) are merged: they add the wrong cells and the
# second predictions. Not xfail on purpose: the merge must make them pass.
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_every_exercise_has_two_wrong_answers_and_every_lesson_two_predictions(entry) -> None:
    for lesson in entry.versions.values():
        few = {e.name: len(e.wrong) for e in lesson.exercises if len(e.wrong) < 2}
        assert not few, f"{lesson.path.name}: exercises with fewer than 2 wrong cells: {few}"
        assert len(lesson.predictions) >= 2, f"{lesson.path.name}: fewer than 2 predictions"


@pytest.mark.slow
def test_every_shipped_wrong_answer_is_rejected_by_its_check(worker_host) -> None:
    """`check` of the shipped lessons, as CI runs it, with the wrong answers in view: each
    one is tried and rejected (core/wrongcheck.py)."""
    from autograd_tutor.core.checker import check

    report = check([shipped_lessons()], worker_host)
    wrong = sum(len(v.wrong) for entry in ENTRIES for v in entry.versions.values())
    assert [str(p) for p in report.problems] == []
    assert wrong > 0 and report.wrong_rejected == wrong
