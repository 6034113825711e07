"""`wrong=` cells: parsed apart from the lesson's cells, tried by `check` (real worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_tutor.core.checker import check
from autograd_tutor.core.lesson import LessonError
from autograd_tutor.core.parser import parse_text
from autograd_tutor.core.runner.client import WorkerHost

HEAD = "---\ntitle: Wrong answers\n---\n\n```python\nimport torch\nx = torch.tensor(3.0, requires_grad=True)\n```\n"
EXERCISE = '```python exercise="sq"\ng = None\n```\n'
# The check looks at the number only: a weak check, which a hard-coded answer passes.
WEAK = '```python check="sq"\nassert g is not None and float(g) == 6.0, "g must be 6"\n```\n'
# It also looks at the mechanism: the gradient must be x's, from a backward through x ** 2.
STRONG = (
    '```python check="sq"\n'
    'assert g is not None and float(g) == 6.0, "g must be 6"\n'
    'assert x.grad is not None and float(x.grad) == 6.0, "call backward on x ** 2"\n'
    "```\n"
)
SOLUTION = '```python solution="sq"\n(x ** 2).backward()\ng = x.grad\n```\n'
HARD_CODED = '```python wrong="sq"\n# the number, hard-coded\ng = torch.tensor(6.0)\n```\n'
# Leaves x.grad at 12: were the session shared, the solution after it would fail its check.
TWICE = '```python wrong="sq"\n(x ** 2).backward()\n(x ** 2).backward()\ng = x.grad\n```\n'
TAIL = "```python\nassert x.grad is not None and float(x.grad) == 6.0 or x.grad is None\n```\n"


def lesson(*parts: str) -> str:
    return "\n".join([HEAD, *parts])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "01-wrong.en.md"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, text: str, after: int = 0) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if n > after and text in line)


def test_wrong_cells_are_no_cells_of_the_lesson() -> None:
    parsed = parse_text(
        lesson(EXERCISE, STRONG, SOLUTION, HARD_CODED, TWICE, TAIL), Path("01-wrong.en.md")
    )
    assert [c.role for c in parsed.cells] == ["code", "exercise", "check", "solution", "code"]
    assert all("wrong" not in c.metadata for c in parsed.cells)
    (exercise,) = parsed.exercises
    assert [w.source for w in exercise.wrong] == [
        "# the number, hard-coded\ng = torch.tensor(6.0)",
        "(x ** 2).backward()\n(x ** 2).backward()\ng = x.grad",
    ]
    assert exercise.wrong == parsed.wrong
    # No prose keeps the fence of a wrong cell either.
    assert "hard-coded" not in "".join(getattr(b, "text", "") for b in parsed.blocks)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            (EXERCISE, WEAK, '```python wrong="nope"\ng = 1\n```\n'),
            "wrong answer to unknown exercise 'nope'",
        ),
        (
            ('```python wrong="sq"\ng = 1\n```\n', EXERCISE, WEAK),
            "a wrong answer must come after its exercise 'sq'",
        ),
        (
            (EXERCISE, WEAK, '```python wrong=""\ng = 1\n```\n'),
            '`wrong` must name the exercise, e.g. wrong="name"',
        ),
        (
            (EXERCISE, WEAK, '```python wrong="sq" check="sq"\ng = 1\n```\n'),
            "a cell is one of exercise, check, solution or wrong, not several",
        ),
        (
            (EXERCISE, WEAK, '```python wrong="sq" tags=["raises-exception"]\ng = 1\n```\n'),
            "a wrong cell takes no tags and no prediction",
        ),
    ],
)
def test_a_bad_wrong_cell_is_reported_at_its_fence(parts: tuple[str, ...], message: str) -> None:
    text = lesson(*parts)
    with pytest.raises(LessonError) as caught:
        parse_text(text, Path("01-wrong.en.md"))
    fence = next(n for n, line in enumerate(text.splitlines(), 1) if "wrong=" in line)
    assert str(caught.value) == f"01-wrong.en.md:{fence}: {message}"


def test_a_wrong_answer_the_weak_check_accepts_is_reported(
    tmp_path: Path, worker_host: WorkerHost
) -> None:
    path = write(tmp_path, lesson(EXERCISE, WEAK, SOLUTION, HARD_CODED, TWICE, TAIL))
    report = check([tmp_path], worker_host)
    hard_coded = line_of(path, "# the number, hard-coded")
    assert [str(p) for p in report.problems] == [
        f"{path}:{hard_coded}: wrong answer to exercise 'sq' passes its check"
    ]
    assert report.wrong_rejected == 1  # TWICE gives 12
    assert report.exit_code == 1


def test_wrong_answers_the_check_rejects_are_all_good(
    tmp_path: Path, worker_host: WorkerHost
) -> None:
    # TWICE ran in a copy of the session: the solution after it still gets x.grad == 6.
    write(tmp_path, lesson(EXERCISE, STRONG, SOLUTION, HARD_CODED, TWICE, TAIL))
    report = check([tmp_path], worker_host)
    assert [str(p) for p in report.problems] == []
    assert report.wrong_rejected == 2
    assert report.summary() == (
        "checked 1 lessons, 5 cells, 1 exercises, 2 wrong answers rejected: all good"
    )


def test_a_wrong_answer_that_raises_is_reported_at_its_line(
    tmp_path: Path, worker_host: WorkerHost
) -> None:
    raising = '```python wrong="sq"\ng = x * 2\ng = 1 / 0\n```\n'
    path = write(tmp_path, lesson(EXERCISE, STRONG, SOLUTION, raising))
    found = [str(p) for p in check([tmp_path], worker_host).problems]
    assert found == [
        f"{path}:{line_of(path, '1 / 0')}: wrong answer to exercise 'sq' raises before its "
        "check runs: ZeroDivisionError: division by zero"
    ]


def test_translations_share_their_wrong_cells(tmp_path: Path) -> None:
    from autograd_tutor.core.checker import translation_problems
    from autograd_tutor.core.library import load

    en = lesson(EXERCISE, WEAK, SOLUTION, HARD_CODED, TWICE)
    (tmp_path / "01-wrong.en.md").write_text(en, encoding="utf-8")
    (tmp_path / "01-wrong.zh.md").write_text(
        en.replace(TWICE, TWICE.replace("g = x.grad", "g = x.grad * 1"))
    )
    (entry,) = load([tmp_path])
    zh = tmp_path / "01-wrong.zh.md"
    second = line_of(zh, "wrong=", line_of(zh, "wrong=")) + 1  # the same line in both files
    assert [str(p) for p in translation_problems(entry)] == [
        f"{zh}:{second}: wrong cell 2 differs from 01-wrong.en.md:{second} "
        "(translations share their code)"
    ]


def test_the_check_reads_the_wrong_answer_and_the_solution_as_the_learners_code(
    tmp_path: Path, worker_host: WorkerHost
) -> None:
    # The number is right either way: only the code tells the two apart.
    by_mechanism = (
        '```python check="sq"\n'
        "from autograd_tutor.check import say, uses\n"
        'assert g is not None and float(g) == 6.0, "g must be 6"\n'
        'assert not uses("torch.autograd.grad"), say(en="use backward", zh="用 backward")\n'
        "```\n"
    )
    library_call = '```python wrong="sq"\n(g,) = torch.autograd.grad(x ** 2, x)\n```\n'
    write(tmp_path, lesson(EXERCISE, by_mechanism, SOLUTION, library_call))
    report = check([tmp_path], worker_host)
    assert [str(p) for p in report.problems] == []
    assert report.wrong_rejected == 1
