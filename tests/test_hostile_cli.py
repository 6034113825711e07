"""`autograd-tutor run` (the installed command) over lessons whose cells forge the worker's
frames or print what no encoding takes: every cell gets its record, the run goes on after a
broken session, and `--json` is JSON on every line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_tutor.core.runner.shared.frames import PROTOCOL_BROKEN
from tests.hostile.frames import forge

# Slow lane (the command in subprocesses, each with its own worker host), as test_cli.py.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

COMMAND = shutil.which("autograd-tutor", path=str(Path(sys.executable).parent))

CASES = {
    "done-with-text-for-a-list": "_frame(_done(warnings='not a list'))",
    "done-with-no-fields": "_frame({'ev': 'done'})",
    "plot-of-none": "_frame({'ev': 'plot', 'id': _rid(), 'plot': None})",
    "extra-done-with-nan": "_frame(_done(seconds=float('nan'), value=float('nan')))",
}
SURROGATES = (
    "import warnings\nclass Odd:\n    def __repr__(self):\n        return '\\ud800'\n"
    "warnings.warn('\\udfff')\nprint(Odd())\nOdd()"
)


def lesson_file(tmp_path: Path) -> Path:
    cells = ["x = 1", *(forge(code) for code in CASES.values()), SURROGATES, "40 + 2"]
    fences = "\n\n".join(f"```python\n{code}\n```" for code in cells)
    path = tmp_path / "01-hostile.en.md"
    path.write_text(f"---\ntitle: Hostile\nid: hostile\n---\n\n# Hostile\n\n{fences}\n")
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert COMMAND, "the autograd-tutor command is not installed in this environment"
    return subprocess.run(
        [COMMAND, "run", *map(str, args)], capture_output=True, text=True, timeout=200
    )


def test_run_json_goes_on_after_broken_sessions(tmp_path: Path) -> None:
    done = run("--json", lesson_file(tmp_path))
    assert done.returncode == 1, done.stderr  # cells not as expected; not 3 (our crash)
    records = [json.loads(line) for line in done.stdout.splitlines()]  # JSON on every line
    assert len(records) == 2 + len(CASES) + 1
    broken = records[1 : 1 + len(CASES)]
    assert all(r["status"] == "crashed" for r in broken), broken
    assert all(r["cause"].startswith(PROTOCOL_BROKEN) for r in broken)
    odd, last = records[-2], records[-1]
    assert odd["status"] == "ok" and odd["value"] == "\\ud800" and odd["fresh_session"]
    assert odd["warnings"][0]["message"] == "\\udfff"
    assert last["status"] == "ok" and last["value"] == "42" and not last["fresh_session"]


def test_run_text_writes_what_no_encoding_takes(tmp_path: Path) -> None:
    done = run(lesson_file(tmp_path))
    assert done.returncode == 1, done.stderr
    assert "UnicodeEncodeError" not in done.stderr + done.stdout
    assert done.stdout.count(PROTOCOL_BROKEN) == len(CASES)
    assert "⇒ \\ud800" in done.stdout and "⇒ 42" in done.stdout
