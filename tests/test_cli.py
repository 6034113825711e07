"""`autograd-tutor run` and `check` as a user calls them: real processes, real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Slow lane (the command in subprocesses, each with its own worker host): CI runs it; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "autograd_tutor"]

LESSON = """\
---
title: Demo
---
Prose.

```python
import torch
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
print("made x")
x * 2
```

```python tags=["raises-exception"]
y = x ** 2
y.backward()
```

```python tags=["skip-execution"]
while True: pass
```

```python exercise="sum"
total = x.sum() * 0
```

```hint
Use x.sum().
```

```python check="sum"
assert float(total) == 6.0, "total should be 6"
```

```python solution="sum"
total = x.sum()
```
"""


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )


@pytest.fixture
def lesson(tmp_path: Path) -> Path:
    path = tmp_path / "01-demo.en.md"
    path.write_text(LESSON)
    return path


def test_help_and_version() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for command in ("run", "check", "new", "sandbox"):
        assert command in result.stdout
    assert cli("--version").stdout.startswith("autograd-tutor ")


def test_installed_console_script() -> None:
    script = shutil.which("autograd-tutor", path=str(Path(sys.executable).parent))
    assert script, "the console script is installed beside the interpreter"
    assert subprocess.run([script, "--help"], capture_output=True, timeout=60).returncode == 0


def test_run_json_records(lesson: Path) -> None:
    result = cli("run", lesson, "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["index"] for r in records] == [0, 1, 2, 3, 4, 5]
    first, raising, skipped, starter, check, solution = records
    keys = {
        "index",
        "line",
        "status",
        "expected",
        "stdout",
        "stderr",
        "value",
        "output_truncated",
        "seconds",
        "error",
        "plots",
    }
    assert keys <= set(first)
    assert first["line"] == 7 and first["stdout"] == "made x\n"
    assert first["value"] == "tensor([2., 4., 6.], grad_fn=<MulBackward0>)"
    assert raising["status"] == "error" and raising["expected"] is True
    assert raising["error"]["line"] == 15 and raising["error"]["type"] == "RuntimeError"
    assert set(raising["error"]) >= {"type", "message", "line", "traceback", "explanation"}
    assert skipped["status"] == "skipped" and skipped["expected"]
    assert starter["status"] == "ok"
    assert check["status"] == "error" and check["solved"] is False and check["expected"]
    assert "total should be 6" in check["error"]["message"]
    assert solution["status"] == "skipped"


def test_run_human_output(lesson: Path) -> None:
    result = cli("run", lesson)
    assert result.returncode == 0
    assert "made x" in result.stdout and "sandbox:" in result.stdout
    assert "scalar outputs" in result.stdout


def test_run_exit_1_on_unexpected(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text(
        '---\ntitle: t\n---\n```python\n1 / 0\n```\n\n```python tags=["raises-exception"]\n1\n```\n'
    )
    result = cli("run", path, "--json")
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["expected"] for r in records] == [False, False]


def test_run_exit_2_on_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.md"
    path.write_text("---\ntitle: [unclosed\n---\n")
    result = cli("run", path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}:2: invalid YAML")
    assert "Traceback" not in result.stderr


def test_run_timeout_crash_records(tmp_path: Path) -> None:
    path = tmp_path / "threats.md"
    path.write_text(
        "---\ntitle: t\n---\n```python\nwhile True: pass\n```\n\n```python\n"
        "import ctypes; ctypes.string_at(0)\n```\n\n```python\nprint('next')\n```\n"
    )
    result = cli("run", path, "--json", "--timeout", "1")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in records] == ["timeout", "crashed", "ok"]
    assert "SIGSEGV" in records[1]["cause"]
    assert records[2]["fresh_session"] is True and records[2]["stdout"] == "next\n"
    assert result.returncode == 1


def test_check_passes_good_lesson(lesson: Path) -> None:
    result = cli("check", lesson.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 lessons" in result.stdout and "all good" in result.stdout


def test_check_reports_each_problem(tmp_path: Path, lesson: Path) -> None:
    solved = LESSON.replace("total = x.sum() * 0", "total = x.sum()")
    (tmp_path / "02-solved.en.md").write_text(solved.replace("title: Demo", "title: Solved"))
    (tmp_path / "03-broken.en.md").write_text("---\ntitle: x\n---\n```python\nx = 1\n")
    wrong = LESSON.replace("total = x.sum()\n```", "total = x.sum() + 1\n```")
    (tmp_path / "04-wrong.en.md").write_text(wrong)
    result = cli("check", tmp_path)
    out = result.stdout
    assert result.returncode == 2  # one file cannot be parsed
    assert f"{tmp_path / '03-broken.en.md'}:4: code fence ``` is never closed" in out
    assert f"{tmp_path / '02-solved.en.md'}:" in out and "starts solved" in out
    assert f"{tmp_path / '04-wrong.en.md'}:" in out and "fails its check" in out
    assert f"ok   {lesson}" in out  # the good lesson still ran


def test_check_translation_mismatch(tmp_path: Path, lesson: Path) -> None:
    zh = LESSON.replace("title: Demo", "title: 演示").replace('print("made x")', 'print("x")')
    (tmp_path / "01-demo.zh.md").write_text(zh)
    result = cli("check", tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path / '01-demo.zh.md'}:7: code cell 1 differs" in result.stdout


def test_check_missing_path(tmp_path: Path) -> None:
    result = cli("check", tmp_path / "nope")
    assert result.returncode == 2 and "no such file" in result.stderr


def test_new_scaffolds_a_lesson_that_checks(tmp_path: Path) -> None:
    result = cli("new", "Clipping: a how-to", "--dir", tmp_path)
    assert result.returncode == 0, result.stderr
    (path,) = tmp_path.glob("*.md")
    assert path.name == "01-clipping-a-how-to.en.md"
    checked = cli("check", path)
    assert checked.returncode == 0, checked.stdout
    assert "1 prediction, 2 wrong answers rejected: all good" in checked.stdout
    assert cli("new", "Second", "--dir", tmp_path).returncode == 0
    assert (tmp_path / "02-second.en.md").exists()
