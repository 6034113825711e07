"""A non-editable install, run from another folder, finds the shipped lessons."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_wheel_carries_lessons(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("autograd_tutor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.name for p in (ROOT / "lessons").glob("*.md"))
    assert shipped and all(f"autograd_tutor/lessons/{name}" in names for name in shipped)
    assert any(n.endswith("core/runner/host/__main__.py") for n in names)

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=120,
    )
    code = "from autograd_tutor.core.library import shipped_lessons as s; print(s())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    found = Path(out.stdout.strip())
    assert found.is_relative_to(target), out.stderr
    assert sorted(p.name for p in found.glob("*.md")) == shipped
