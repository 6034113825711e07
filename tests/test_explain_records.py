"""Explanations reach `run --json` records for code the lessons do not contain.

Every case of tests/test_explain.py runs as a raises-exception cell through the real worker
and the same record-building path as `autograd-tutor run --json`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_tutor.core.lessonrun import run_lesson
from autograd_tutor.core.parser import parse_file
from autograd_tutor.core.runner.client import WorkerHost
from tests.test_explain import ERROR_CASES, WARNING_CASES

# Slow lane (every catalogue entry through the real worker, in both languages): CI runs it; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

PRELUDE = "import torch\nimport numpy as np\n"


def lesson_file(folder: Path, name: str, code: str, lang: str, raises: bool = True) -> Path:
    tag = ' tags=["raises-exception"]' if raises else ""
    path = folder / f"{name}.{lang}.md"
    path.write_text(f"---\ntitle: case\nlang: {lang}\n---\n```python{tag}\n{PRELUDE}{code}\n```\n")
    return path


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("expected", "code"), ERROR_CASES)
def test_error_records_carry_explanation(
    worker_host: WorkerHost, tmp_path: Path, lang: str, expected: str, code: str
) -> None:
    (result,) = run_lesson(worker_host, parse_file(lesson_file(tmp_path, "case", code, lang)))
    assert result.status == "error", result
    assert result.error is not None and result.error.explanation is not None, result
    assert result.error.explanation.id == expected
    assert result.error.explanation.title


@pytest.mark.parametrize(("expected", "code"), WARNING_CASES)
def test_warning_records_carry_explanation(
    worker_host: WorkerHost, tmp_path: Path, expected: str, code: str
) -> None:
    (result,) = run_lesson(
        worker_host, parse_file(lesson_file(tmp_path, "warn", code, "en", raises=False))
    )
    ids = [w.explanation.id for w in result.warnings if w.explanation is not None]
    assert expected in ids, result.warnings


def test_cli_json_has_explanation_ids(tmp_path: Path) -> None:
    codes = {
        "backward-non-scalar": "y = torch.ones(3, requires_grad=True) * 2\ny.backward()",
        "item-not-scalar": "torch.zeros(4).item()",
        "int-requires-grad": "torch.arange(3).requires_grad_()",
    }
    body = "".join(
        f'```python tags=["raises-exception"]\n{PRELUDE}{c}\n```\n\n' for c in codes.values()
    )
    path = tmp_path / "mixed.md"
    path.write_text("---\ntitle: mixed\n---\n" + body)
    out = subprocess.run(
        [sys.executable, "-m", "autograd_tutor", "run", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    ids = [json.loads(line)["error"]["explanation"]["id"] for line in out.stdout.splitlines()]
    assert ids == list(codes)
