"""`autograd-tutor run --json` is a contract with authors' tools: its records are pinned.

Each fixture lesson under tests/pinned runs through the real command; every line must equal
the stored one byte for byte, once the durations (`"seconds"`) and the checkout's own path
are made the same on every machine. To accept a deliberate change of the output, run with
PIN_UPDATE=1 and review the diff of the `.expected.jsonl` files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PINNED = REPO / "tests" / "pinned"
SECONDS = re.compile(r'"seconds": [0-9.e+-]+')

# (lesson, the command's exit code): a lesson whose cells end as it says exits 0, else 1.
CASES = [
    ("run_json.en.md", 1),
    ("broken_catalogue/01-broken.en.md", 0),
]


def normalized(stdout: str) -> list[str]:
    text = SECONDS.sub('"seconds": 0.0', stdout)
    # Catalogue problems name their file by its absolute path.
    return text.replace(f"{REPO}/", "").splitlines()


@pytest.mark.parametrize(("lesson", "exit_code"), CASES)
def test_run_json_records_are_pinned(lesson: str, exit_code: int) -> None:
    relative = Path("tests") / "pinned" / lesson  # tracebacks name the lesson as given
    out = subprocess.run(
        [sys.executable, "-m", "autograd_tutor", "run", str(relative), "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )
    assert out.returncode == exit_code, out.stderr
    lines = normalized(out.stdout)
    expected_file = PINNED / lesson.replace(".en.md", ".expected.jsonl")
    if os.environ.get("PIN_UPDATE"):
        expected_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(expected)
    for index, (line, pinned) in enumerate(zip(lines, expected)):
        assert line == pinned, f"record {index} changed"
