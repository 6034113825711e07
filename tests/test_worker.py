"""The real worker: a warm host, one confined process per session, no mocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from autograd_tutor.core.results import CellOutcome, CellWarning
from autograd_tutor.core.runner.client import Session, WorkerHost
from autograd_tutor.core.runner.client.workerhost import MAX_SPARES

LESSON = "/lessons/demo.md"


def run(session: Session, code: str, line: int = 1, **kw: object) -> CellOutcome:
    return session.run(textwrap.dedent(code).strip("\n"), filename=LESSON, line=line, **kw)


def test_namespace_persists_and_last_value(session: Session) -> None:
    assert (
        run(session, "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)").status
        == "ok"
    )
    result = run(session, "y = (x * 3).sum()\ny")
    assert result.value == "tensor(9., grad_fn=<SumBackward0>)"
    assert run(session, "y.backward()\nx.grad").value == "tensor([3., 3.])"
    assert run(session, "z = 1").value is None  # an assignment shows nothing
    assert run(session, "_").value == "tensor([3., 3.])"  # `_` holds the last value


def test_stdout_stderr_and_warnings(session: Session) -> None:
    result = run(
        session,
        """
        import sys, warnings
        print("out")
        print("err", file=sys.stderr)
        warnings.warn("careful")
    """,
        line=40,
    )
    assert result.stdout == "out\n" and result.stderr == "err\n"
    assert list(result.warnings) == [CellWarning("UserWarning", "careful", 43)]


def test_torch_warning_of_non_leaf_grad(session: Session) -> None:
    result = run(
        session,
        """
        import torch
        a = torch.tensor(1.0, requires_grad=True)
        b = a * 2
        b.grad
    """,
    )
    assert result.status == "ok"
    assert any("non-leaf" in w.message for w in result.warnings)


def test_traceback_points_at_lesson_lines(session: Session) -> None:
    run(session, "def f(v):\n    return v.backward()", line=10)
    result = run(
        session,
        """
        import torch
        t = torch.ones(3, requires_grad=True) * 2
        f(t)
    """,
        line=20,
    )
    error = result.error
    assert result.status == "error" and error is not None
    assert error.type == "RuntimeError"
    assert "scalar outputs" in error.message
    assert error.line == 11  # inside f, defined in the earlier cell
    assert f'File "{LESSON}", line 22' in error.traceback
    assert "    f(t)" in error.traceback and "    return v.backward()" in error.traceback
    assert "torch/" not in error.traceback  # library frames are trimmed


def test_syntax_error_line(session: Session) -> None:
    result = run(session, "x = 1\nx = (", line=30)
    assert result.error.type == "SyntaxError" and result.error.line == 31


def test_sys_exit_is_reported_and_session_lives(session: Session) -> None:
    run(session, "keep = 5")
    result = run(session, "import sys\nsys.exit(2)")
    assert result.status == "error" and result.error.type == "SystemExit"
    assert "ends nothing" in result.error.message
    assert run(session, "keep").value == "5"


def test_input_fails_clearly(session: Session) -> None:
    result = run(session, "input('name? ')")
    assert result.error.type == "RuntimeError"
    assert "input() is not available" in result.error.message


def test_timeout_keeps_namespace_for_python_loops(session: Session) -> None:
    run(session, "kept = 41")
    result = run(session, "while True:\n    pass", timeout=0.5)
    assert result.status == "timeout" and session.alive
    assert run(session, "kept + 1").value == "42"


def test_stuck_native_call_is_killed(worker_host: WorkerHost) -> None:
    session = worker_host.new_session()
    started = time.monotonic()
    result = run(
        session, "import hashlib\nhashlib.pbkdf2_hmac('sha256', b'x', b'y', 10**9)", timeout=0.5
    )
    assert result.status == "timeout" and result.session_ended
    assert time.monotonic() - started < 10
    assert not session.alive
    session.close()


def test_interrupt_inside_no_grad_keeps_recording_on(session: Session) -> None:
    # Interrupt many times at random points of a no_grad-heavy loop: recording must survive.
    # The clock starts when the cell says it runs: on a loaded machine an interrupt timed from
    # the request could arrive before the cell does, and be (rightly) dropped.
    for delay in (0.05, 0.11, 0.17, 0.23):
        timers: list[threading.Timer] = []

        def interrupt_later(event: dict, delay: float = delay, timers: list = timers) -> None:
            if event.get("ev") == "stream" and not timers:
                timers.append(threading.Timer(delay, session.interrupt))
                timers[0].start()

        result = run(
            session,
            """
            import torch
            w = torch.ones(3, requires_grad=True)
            print("looping", flush=True)
            while True:
                with torch.no_grad():
                    w.mul_(1.0)
        """,
            timeout=20,
            on_event=interrupt_later,
        )
        assert result.error is not None and result.error.type == "KeyboardInterrupt"
        assert run(session, "torch.is_grad_enabled()").value == "True"


def test_interrupt(session: Session) -> None:
    threading.Timer(0.3, session.interrupt).start()
    result = run(session, "import time\nwhile True: time.sleep(0.01)", timeout=20)
    assert result.status == "error" and result.error.type == "KeyboardInterrupt"
    assert run(session, "1 + 1").value == "2"


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        ("import ctypes\nctypes.string_at(0)", "SIGSEGV"),
        ("import os\nos._exit(3)", "code 3"),
        ("import os\nos._exit(0)", "code 0"),
    ],
)
def test_crashes_are_named(worker_host: WorkerHost, code: str, cause: str) -> None:
    session = worker_host.new_session()
    result = run(session, "print('before')\n" + code)
    assert result.status == "crashed" and cause in result.cause
    assert result.stdout == "before\n"  # output written before the crash still arrives
    session.close()


def test_killed_worker_is_reported(worker_host: WorkerHost) -> None:
    session = worker_host.new_session()
    threading.Timer(0.3, os.kill, (session.pid, signal.SIGKILL)).start()
    result = run(session, "import time\ntime.sleep(30)")
    assert result.status == "crashed" and "SIGKILL" in result.cause
    assert not session.alive
    session.close()


def test_output_flood_is_capped(session: Session) -> None:
    result = run(
        session,
        """
        import os
        for i in range(20000):
            print("p" * 100)
            os.write(1, b"w" * 100 + b"\\n")
    """,
        output_limit=50_000,
    )
    assert result.status == "ok" and result.output_truncated
    assert 40_000 <= len(result.stdout) <= 50_000
    assert run(session, "'still alive'").value == "'still alive'"


def test_memory_bomb_gives_memory_status(worker_host: WorkerHost) -> None:
    session = worker_host.new_session(memory_bytes=1024**3)
    result = run(session, "import torch\nbig = torch.empty(4 * 1024**3, dtype=torch.uint8)")
    assert result.status == "memory"
    assert run(session, "small = bytearray(10)\nlen(small)").value == "10"
    session.close()


def test_sessions_are_isolated(worker_host: WorkerHost) -> None:
    a, b = worker_host.new_session(), worker_host.new_session()
    run(a, "secret = 1")
    assert run(b, "secret").error.type == "NameError"
    a.close()
    b.close()


def test_cell_cannot_see_app_environment(
    worker_host: WorkerHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = worker_host.new_session()
    result = run(session, "import os\nsorted(k for k in os.environ if 'TOKEN' in k)")
    assert result.value == "[]"
    session.close()


def test_workers_die_with_the_app() -> None:
    """SIGKILL the process that owns the worker: host, relays and cells all go."""
    script = textwrap.dedent("""
        from autograd_tutor.core.runner.client import WorkerHost
        h = WorkerHost(); h.wait_ready()
        s = h.new_session()
        s.run("import os\\nprint(os.getppid())")
        print(h._proc.pid, s.pid, flush=True)
        import time; time.sleep(60)
    """)
    app = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    host_pid, relay_pid = map(int, app.stdout.readline().split())
    os.kill(app.pid, signal.SIGKILL)
    app.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (alive(host_pid) or alive(relay_pid)):
        time.sleep(0.05)
    assert not alive(host_pid) and not alive(relay_pid)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_spares_are_kept_for_the_last_settings_only(worker_host: WorkerHost, tmp_path) -> None:
    """Every lesson folder has settings of its own: a long-lived host (the app's, the test
    suite's) keeps spares for the last few, not one relay and cell process per folder ever."""
    for i in range(MAX_SPARES + 3):
        folder = tmp_path / str(i)
        folder.mkdir()
        worker_host.new_session(read_paths=[folder]).close()
    spares = list(worker_host._spares.values())
    assert len(spares) <= MAX_SPARES
    for pending in spares:
        pending.result(timeout=60)  # the kept ones still come
