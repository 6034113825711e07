"""Warnings of a cell against the real worker: Python's and Jupyter's filters, repeats counted.

What plain Python and Jupyter hide stays hidden (ResourceWarning, a DeprecationWarning raised
inside a library); a warning that repeats is one entry with a count; the cell's own filters
are obeyed and kept for the next cells, as in a notebook.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from autograd_tutor.core.results import CellOutcome, CellWarning
from autograd_tutor.core.runner.client import Session

LESSON = "/lessons/demo.md"

# A tiny library, written into the session's scratch space and imported by the cell.
OLDLIB = """
import warnings

def inside():
    warnings.warn("deprecated inside the library", DeprecationWarning)

def api():
    warnings.warn("api() is deprecated", DeprecationWarning, stacklevel=2)
"""


def run(session: Session, code: str, line: int = 1) -> CellOutcome:
    return session.run(textwrap.dedent(code).strip("\n"), filename=LESSON, line=line)


def import_oldlib(session: Session) -> None:
    result = run(
        session,
        f"""
        import sys, tempfile, warnings
        from pathlib import Path
        _lib = tempfile.mkdtemp()
        Path(_lib, "oldlib.py").write_text({OLDLIB!r})
        sys.path.insert(0, _lib)
        import oldlib
        """,
    )
    assert result.status == "ok", result.error


def test_unclosed_files_warn_nothing(session: Session) -> None:
    result = run(
        session,
        """
        import tempfile
        from pathlib import Path
        folder = Path(tempfile.mkdtemp())
        for i in range(50):
            (folder / f"f{i}.txt").write_text("x")
        texts = [open(p).read() for p in sorted(folder.iterdir())]
        len(texts)
        """,
    )
    assert result.status == "ok", result.error
    assert result.value == "50"
    assert result.warnings == ()
    assert result.warnings_hidden == 0


def test_a_repeated_warning_is_one_entry_with_its_count(session: Session) -> None:
    result = run(
        session,
        """
        import warnings
        for _ in range(100):
            warnings.warn("same")
        warnings.warn("same")
        warnings.warn("once")
        """,
        line=10,
    )
    assert list(result.warnings) == [
        CellWarning("UserWarning", "same", 12, 100),
        CellWarning("UserWarning", "same", 13),
        CellWarning("UserWarning", "once", 14),
    ]
    # The next run of the same cell shows them again, as a notebook does.
    again = run(session, "for _ in range(3):\n    warnings.warn('same')", line=12)
    assert list(again.warnings) == [CellWarning("UserWarning", "same", 13, 3)]


def test_many_repeats_stay_one_entry(session: Session) -> None:
    result = run(session, "import warnings\nfor i in range(20_000):\n    warnings.warn('step')")
    assert result.status == "ok"
    assert list(result.warnings) == [CellWarning("UserWarning", "step", 3, 20_000)]


def test_distinct_warnings_are_capped(session: Session) -> None:
    result = run(
        session,
        """
        import warnings
        for i in range(25):
            for _ in range(2):
                warnings.warn(f"number {i}")
        """,
    )
    assert len(result.warnings) == 20
    assert result.warnings[0] == CellWarning("UserWarning", "number 0", 4, count=2)
    assert result.warnings_hidden == 10  # 5 more warnings, twice each


def test_deprecation_shown_from_the_cell_hidden_from_a_library(session: Session) -> None:
    import_oldlib(session)
    result = run(
        session,
        """
        oldlib.inside()
        oldlib.api()
        warnings.warn("mine is deprecated", DeprecationWarning)
        warnings.warn("pending", PendingDeprecationWarning)
        """,
        line=20,
    )
    assert list(result.warnings) == [
        CellWarning("DeprecationWarning", "api() is deprecated", 21),
        CellWarning("DeprecationWarning", "mine is deprecated", 22),
    ]


def test_the_cells_own_filters_are_obeyed_and_kept(session: Session) -> None:
    import_oldlib(session)
    result = run(
        session,
        """
        warnings.simplefilter("always")
        oldlib.inside()
        open(__import__("os").devnull).read()
        """,
    )
    categories = [w.category for w in result.warnings]
    assert categories == ["DeprecationWarning", "ResourceWarning"]
    assert result.warnings[0].line is None  # it points into the library

    # A filter set in one cell holds in the next ones, as in Python and Jupyter.
    assert [w.category for w in run(session, "oldlib.inside()").warnings] == ["DeprecationWarning"]
    result = run(
        session,
        """
        warnings.simplefilter("ignore")
        warnings.warn("quiet")
        """,
    )
    assert result.warnings == ()
    assert run(session, "warnings.warn('still quiet')").warnings == ()
    result = run(
        session,
        """
        warnings.resetwarnings()
        warnings.filterwarnings("ignore", message="skip")
        warnings.warn("skip this")
        warnings.warn("show this")
        """,
    )
    assert [w.message for w in result.warnings] == ["show this"]

    result = run(session, "warnings.simplefilter('error')\nwarnings.warn('boom')")
    assert result.status == "error"
    assert result.error.type == "UserWarning" and result.error.line == 2
    assert result.warnings == ()


def test_catch_warnings_in_the_cell_still_works(session: Session) -> None:
    result = run(
        session,
        """
        import warnings
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            warnings.warn("caught")
        warnings.warn("shown")
        len(seen)
        """,
    )
    assert result.value == "1"
    assert [w.message for w in result.warnings] == ["shown"]


def test_non_leaf_grad_warning_still_shows_and_counts(session: Session) -> None:
    result = run(
        session,
        """
        import torch
        a = torch.tensor(1.0, requires_grad=True)
        b = a * 2
        for _ in range(3):
            b.grad
        """,
    )
    assert result.status == "ok"
    [warning] = result.warnings
    assert warning.category == "UserWarning" and "non-leaf" in warning.message
    assert warning.line == 5 and warning.count == 3


def test_anomaly_modes_forward_trace_shows_only_the_lessons_frames(session: Session) -> None:
    # detect_anomaly's warning prints the forward call that made the failing node: from the
    # worker's main() down. The learner sees only the lesson's frame, as in a traceback.
    result = run(
        session,
        """
        import torch
        x = torch.tensor([-1.0, 4.0], requires_grad=True)
        with torch.autograd.detect_anomaly():
            y = torch.sqrt(x)
            torch.where(x > 0, y, 0.0).sum().backward()
        """,
    )
    assert result.status == "error" and result.error.type == "RuntimeError"
    [trace] = [w.message for w in result.warnings if "Traceback of forward call" in w.message]
    assert f'File "{LESSON}", line 4, in <module>' in trace
    assert "y = torch.sqrt(x)" in trace
    assert trace.count('File "') == 1, trace
    assert "autograd_tutor" not in trace and "runpy" not in trace


def test_a_traceback_in_a_message_keeps_what_surrounds_its_frames() -> None:
    from autograd_tutor.core.runner.cell.execute import lesson_frames_only

    text = (
        "Error detected in X. Traceback:\n"
        '  File "/srv/relay.py", line 9, in serve\n'
        "    serve()\n"
        f'  File "{LESSON}", line 3, in <module>\n'
        "    y = x.sqrt()\n"
        '  File "/torch/f.py", line 1, in sqrt\n'
        "    return _C.sqrt(x)\n"
        "      ^^^^^^^^^^^^\n"
        " (Triggered internally at x.cpp:122.)"
    )
    assert lesson_frames_only(text, LESSON) == (
        "Error detected in X. Traceback:\n"
        f'  File "{LESSON}", line 3, in <module>\n'
        "    y = x.sqrt()\n"
        " (Triggered internally at x.cpp:122.)"
    )
    assert lesson_frames_only("no frames here", LESSON) == "no frames here"


def test_run_json_and_human_output_count_repeats(tmp_path: Path) -> None:
    lesson = tmp_path / "warn.md"
    lesson.write_text(
        "---\ntitle: Warn\n---\n\n```python\nimport warnings\n"
        "for _ in range(5):\n    warnings.warn('again')\nwarnings.warn('alone')\n```\n"
    )
    cli = [sys.executable, "-m", "autograd_tutor", "run", str(lesson)]
    out = subprocess.run([*cli, "--json"], capture_output=True, text=True, timeout=60)
    [record] = [json.loads(line) for line in out.stdout.splitlines()]
    assert [
        {k: w[k] for k in ("message", "line") if k in w} | {"n": w.get("count", 1)}
        for w in record["warnings"]
    ] == [
        {"message": "again", "line": 8, "n": 5},
        {"message": "alone", "line": 9, "n": 1},
    ]
    assert "count" not in record["warnings"][1]
    human = subprocess.run(cli, capture_output=True, text=True, timeout=60).stdout
    assert "UserWarning: again (×5)" in human
    assert "UserWarning: alone\n" in human


def test_the_ui_shows_the_count_and_the_hidden_ones() -> None:
    from autograd_tutor.core.lesson import CodeCell
    from autograd_tutor.core.lessonrun import cell_result
    from autograd_tutor.ui.render import _result_top

    outcome = CellOutcome(
        status="ok",
        warnings=(
            CellWarning(category="UserWarning", message="again", line=8, count=5),
            CellWarning(category="UserWarning", message="alone", line=9),
        ),
        warnings_hidden=3,
    )
    result = cell_result(CodeCell(index=0, line=7, source="..."), outcome)
    lines = [part.plain for part in _result_top(result)]
    assert lines == [
        "⚠ UserWarning: again (line 8) (×5)",
        "⚠ UserWarning: alone (line 9)",
        "… 3 more warnings not shown",
    ]
