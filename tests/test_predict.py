"""Predictions: answer keys, guesses and reprs read, compared; predict cells parsed, and
malformed ones reported at the line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_tutor.core.lesson import LessonError, Values
from autograd_tutor.core.parser import parse_file
from autograd_tutor.core.predict import (
    AnswerKeyError,
    judge,
    key_problem,
    read,
    read_key,
    same,
    show,
)

# -- reading what a learner types, or what a cell's value looks like ------------------


@pytest.mark.parametrize(
    "text",
    [
        "2",
        "2.0",
        "2.",
        " 2 ",
        "tensor(2.)",
        "tensor(2., grad_fn=<MulBackward0>)",
        "[2.0]",
        "tensor([2.])",
        "4/2",
        "2e0",
    ],
)
def test_numbers_read_in_every_usual_spelling(text: str) -> None:
    assert read("number", text) == 2.0


@pytest.mark.parametrize("text", ["two", "", "[1, 2]", "tensor([1., 2.])", "2 3", "None"])
def test_what_is_not_one_number_is_unreadable(text: str) -> None:
    assert read("number", text) is None


def test_tensors_read_with_their_shape() -> None:
    want = Values((2, 2), (1.0, 2.0, 3.0, 4.0))
    assert read("tensor", "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)") == want
    assert read("tensor", "[[1, 2], [3, 4]]") == want
    assert read("tensor", "2, 4") == Values((2,), (2.0, 4.0))
    assert read("tensor", "tensor([ 4.0000,  6.0000, 12.6000])") == Values((3,), (4.0, 6.0, 12.6))
    assert read("tensor", "tensor([1.0000e-04, 2.0000e+00], dtype=torch.float64)") == Values(
        (2,), (1e-4, 2.0)
    )
    assert read("tensor", "tensor([0., 0., 0., ..., 0., 0., 0.])") is None  # summarised
    assert read("tensor", "[[1, 2], [3]]") is None  # ragged


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("(2, 3)", (2, 3)),
        ("[2,3]", (2, 3)),
        ("torch.Size([2, 3])", (2, 3)),
        ("2x3", (2, 3)),
        ("2 × 3", (2, 3)),
        ("2, 3", (2, 3)),
        ("3", (3,)),
        ("(3,)", (3,)),
        ("()", ()),
        ("torch.Size([])", ()),
        ("scalar", ()),
        ("标量", ()),
        ("tensor([[1., 2., 3.]])", (1, 3)),
    ],
)
def test_shapes_read(text: str, shape: tuple[int, ...]) -> None:
    assert read("shape", text) == shape


@pytest.mark.parametrize("text", ["(2.5, 3)", "(-1, 2)", "big", "2x"])
def test_bad_shapes_are_unreadable(text: str) -> None:
    assert read("shape", text) is None


@pytest.mark.parametrize("text", ["True", "true", "yes", "Y", "1", "对", "是", "tensor(True)"])
def test_true_words(text: str) -> None:
    assert read("bool", text) is True


@pytest.mark.parametrize("text", ["False", "no", "n", "0", "错", "否", "不是"])
def test_false_words(text: str) -> None:
    assert read("bool", text) is False


def test_raises_words() -> None:
    assert [read("raises", t) for t in ("error", "yes", "报错", "raises")] == [True] * 4
    assert [read("raises", t) for t in ("no error", "no", "不报错", "ok")] == [False] * 4
    assert read("raises", "maybe") is None
    assert read("bool", "error") is None  # error words are for raises= only


def test_numbers_agree_within_the_tolerance() -> None:
    assert same("number", 0.3333, 1 / 3)
    assert not same("number", 0.33, 1 / 3)
    assert same("number", 0.33, 1 / 3, tol=0.01)
    assert same("number", 1000.4, 1000.0)  # relative above 1
    assert not same("number", 0.002, 0.0)
    assert same("number", float("nan"), float("nan"))
    assert not same("tensor", Values((2,), (1.0, 2.0)), Values((1, 2), (1.0, 2.0)))  # shape counts


def test_answers_shown_plainly() -> None:
    assert show("number", 6.0) == "6.0"
    assert show("tensor", Values((2, 1), (1.0, 0.5))) == "[[1.0], [0.5]]"
    assert show("shape", (3,)) == "(3,)"
    assert show("shape", (2, 3)) == "(2, 3)"
    assert show("raises", True) == "raises"
    assert show("bool", False) == "False"


# -- guesses and answer keys judged against what the cell did -------------------------


def test_a_guess_beside_the_truth() -> None:
    right = judge("number", 1e-3, "6", "ok", "tensor(6.)")
    assert (right.truth, right.right) == ("6.0", True)
    wrong = judge("number", 1e-3, "9", "ok", "tensor(6.)")
    assert (wrong.truth, wrong.right) == ("6.0", False)
    assert judge("number", 1e-3, "six", "ok", "tensor(6.)").right is False  # unreadable: wrong
    assert judge("raises", 0, "yes", "error", None).right is True
    assert judge("raises", 0, "yes", "ok", None).right is False
    # Nothing to compare with (the learner's edit made the cell fail): no verdict.
    assert judge("number", 1e-3, "6", "error", None).right is None


def test_an_answer_key_against_the_cell() -> None:
    assert key_problem("number", 6.0, 1e-3, "ok", "tensor(6.)") is None
    assert key_problem("number", 5.0, 1e-3, "ok", "tensor(6.)") == (
        "the answer key number=5.0 is wrong: the cell gives 6.0"
    )
    assert "cannot be compared" in str(key_problem("number", 5.0, 1e-3, "ok", "'six'"))
    assert key_problem("raises", True, 0, "ok", None) == (
        "the answer key raises=raises is wrong: the cell gives no error"
    )
    assert key_problem("bool", True, 0, "ok", "1") is not None  # a truthy value is no bool


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"predict": "p"}, "exactly one answer key"),
        ({"predict": "p", "number": 1, "bool": True}, "`number=` and `bool=`"),
        ({"predict": "p", "number": "6"}, "`number=` must be a number"),
        ({"predict": "p", "bool": 1}, "true or false"),
        ({"predict": "p", "shape": [2, -1]}, "list of sizes"),
        ({"predict": "p", "tensor": [[1], [2, 3]]}, "list of numbers"),
        ({"predict": "p", "shape": [2], "tol": 0.1}, "`tol=` is for"),
        ({"predict": "p", "number": 2, "tol": -1}, "`tol` must be"),
    ],
)
def test_bad_answer_keys_say_what_to_write(metadata: dict, words: str) -> None:
    with pytest.raises(AnswerKeyError, match=words.replace("(", r"\(")):
        read_key(metadata)


def test_answer_keys_read() -> None:
    assert read_key({"number": 6, "tol": 0.5}) == ("number", 6.0, 0.5)
    assert read_key({"tensor": [[1, 2]]})[1] == Values((1, 2), (1.0, 2.0))
    assert read_key({"shape": []})[:2] == ("shape", ())
    assert read_key({"raises": False})[:2] == ("raises", False)


# -- the parser ------------------------------------------------------------------------

LESSON = """\
---
title: P
---

```python predict="x-grad" number=6.0
import torch
x = torch.tensor(3.0, requires_grad=True)
(x ** 2).backward()
x.grad
```

```question
What is `x.grad`?
```

Prose between the question and the explanation is allowed.

```explain
2x at x = 3.
```

```python predict="again" raises=true
(x ** 2).backward()
x.grad.backward()
```

```question
Does it raise?
```

```explain
`x.grad` has no `grad_fn`.
```
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "01-p.en.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_predict_cells_parsed(tmp_path: Path) -> None:
    lesson = parse_file(write(tmp_path, LESSON))
    first, second = lesson.predictions
    assert (first.name, first.cell, first.line, first.kind, first.answer) == (
        "x-grad",
        0,
        5,
        "number",
        6.0,
    )
    assert (first.question, first.explanation) == ("What is `x.grad`?", "2x at x = 3.")
    assert (second.kind, second.answer, second.cell) == ("raises", True, 1)
    assert lesson.cells[1].raises and not lesson.cells[0].raises  # raises=true is the tag
    assert lesson.prediction(1) is second and lesson.prediction(5) is None
    prose = "\n".join(b.text for b in lesson.blocks if hasattr(b, "text"))
    assert "What is" not in prose and "Prose between" in prose  # the fences are not prose


BAD_PREDICT = [
    ("no question", LESSON.replace("```question\nWhat is `x.grad`?\n```\n", ""), 5, "```question"),
    ("no explain", LESSON.replace("```explain\n2x at x = 3.\n```\n", ""), 5, "```explain"),
    ("no key", LESSON.replace(" number=6.0", ""), 5, "exactly one answer key"),
    ("bad key", LESSON.replace("number=6.0", 'number="six"'), 5, "must be a number"),
    ("bad name", LESSON.replace('predict="x-grad"', "predict=3"), 5, "must name the prediction"),
    ("twice", LESSON.replace('predict="again"', 'predict="x-grad"'), 22, "defined twice"),
    ("stray question", "---\ntitle: P\n---\n\n```question\nWhat?\n```\n", 5, "follow a predict"),
    ("empty explain", LESSON.replace("2x at x = 3.", ""), 18, "empty ```explain"),
    (
        "second question",
        LESSON.replace("Prose between", "```question\nAgain?\n```\n"),
        16,
        "second ```question",
    ),
    ("skipped", LESSON.replace("number=6.0", 'number=6.0 tags=["skip-execution"]'), 5, "must run"),
]


@pytest.mark.parametrize(
    ("case", "text", "line", "words"), BAD_PREDICT, ids=[b[0] for b in BAD_PREDICT]
)
def test_malformed_predict_cells_say_where(
    tmp_path: Path, case: str, text: str, line: int, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(LessonError) as caught:
        parse_file(path)
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)


def test_question_and_explain_fences_are_held_to_the_chinese_style() -> None:
    from autograd_tutor.core.zhstyle import prose_lines

    text = "```question\n梯度是多少,请回答。\n```\n\n```python\nx = 1,2\n```\n"
    assert [n for n, line in prose_lines(text) if line.strip()] == [2]


def test_predictions_in_progress_round_trip_and_survive_hand_edits(tmp_path: Path) -> None:
    import json

    from autograd_tutor.core.progress import Progress

    path = tmp_path / "progress.json"
    progress = Progress.load(path)
    progress.record_prediction("tensors", "x-grad", "6", True)
    progress.record_prediction("tensors", "shape", "(2,)", False)
    progress.record_prediction("tensors", "shape", "(2, 3)", True)  # a later answer replaces
    assert progress.save() is None
    again = Progress.load(path)
    assert again.warning is None
    assert again.predictions("tensors") == {"x-grad": ("6", True), "shape": ("(2, 3)", True)}
    assert again.predictions("other") == {}
    data = json.loads(path.read_text())
    data["lessons"]["tensors"]["predictions"]["x-grad"] = {"guess": 6}
    path.write_text(json.dumps(data))
    assert Progress.load(path).predictions("tensors") == {"shape": ("(2, 3)", True)}
    data["lessons"]["tensors"]["predictions"] = ["not", "a", "mapping"]
    path.write_text(json.dumps(data))
    edited = Progress.load(path)
    assert edited.predictions("tensors") == {}
    edited.record_prediction("tensors", "x-grad", "6", True)
    assert edited.predictions("tensors") == {"x-grad": ("6", True)}


def test_a_guess_against_the_answer_key(tmp_path: Path) -> None:
    from autograd_tutor.core.predict import matches_key

    (number,) = [p for p in parse_file(write(tmp_path, LESSON)).predictions if p.kind == "number"]
    assert matches_key(number, "6") and matches_key(number, "tensor(6.)")
    assert not matches_key(number, "7") and not matches_key(number, "six")
