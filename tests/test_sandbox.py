"""The sandbox against the real kernel: no mocks.

Each test forks a "relay" child that calls enter_namespaces and forks the "cell" (pid 1 of
the new pid namespace), which calls confine_cell, tries a threat and reports the outcome as
a JSON line over a pipe. Every bomb runs only after its limit is in place, and every test is
bounded in time. Tests that need a kernel feature this machine lacks are skipped with the
reason the sandbox itself gives.
"""

from __future__ import annotations

import contextlib
import ctypes
import encodings.idna  # noqa: F401 - socket imports it lazily; nobody can't read /root later
import errno
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autograd_tutor.core.runner import sandbox
from autograd_tutor.core.runner.sandbox import (
    SandboxConfig,
    SandboxReport,
    confine_cell,
    enter_namespaces,
    probe,
)

NOBODY = 65534
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
_libc = ctypes.CDLL(None, use_errno=True)
IS_ROOT = os.getuid() == 0


def outcome(fn: Callable[[], Any]) -> str:
    """'ok', an errno name ('EACCES') or an exception type name ('MemoryError')."""
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, type(e).__name__) if e.errno else type(e).__name__
    except Exception as e:  # noqa: BLE001 - the outcome is what we report
        return type(e).__name__


def _send(fd: int, obj: dict[str, Any]) -> None:
    os.write(fd, (json.dumps(obj) + "\n").encode())


def _die_with_parent() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Sandboxed:
    """A relay + cell pair running ``threat(send)`` confined; messages come back as dicts.

    ``before(send)`` runs in the relay before the namespaces (controls: what is possible
    unconfined); ``uid`` makes the relay drop to that user first (modules are imported by
    then, since an unprivileged user may not read this interpreter's files).
    """

    def __init__(
        self,
        config: SandboxConfig,
        threat: Callable[[Callable[[dict[str, Any]], None]], Any],
        *,
        uid: int | None = None,
        before: Callable[[Callable[[dict[str, Any]], None]], None] | None = None,
        relay_closes: tuple[int, ...] = (),
    ) -> None:
        self.buffer = b""
        self.seen: dict[str, Any] = {}  # every message so far, in whatever order they came
        self.r, w = os.pipe()
        self.relay = os.fork()
        if self.relay == 0:
            try:
                os.close(self.r)
                _die_with_parent()

                def send(obj: dict[str, Any]) -> None:
                    _send(w, obj)

                if uid is not None:
                    os.setgroups([])
                    os.setgid(uid)
                    os.setuid(uid)
                    # Changing uid made us non-dumpable, which makes /proc/self/uid_map root's;
                    # a process started by an ordinary user is dumpable.
                    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
                if before is not None:
                    before(send)
                report = SandboxReport()
                enter_namespaces(report, config)
                cell = os.fork()
                if cell == 0:
                    try:
                        _die_with_parent()
                        confine_cell(config, report)
                        send({"report": report.to_json()})
                        send({"result": threat(send)})
                    except BaseException as e:  # noqa: BLE001 - report, never return to pytest
                        send({"crash": repr(e)})
                    finally:
                        os._exit(0)
                config.plan.close()
                for fd in relay_closes:
                    os.close(fd)
                send({"cell_pid": cell})
                os.waitpid(cell, 0)
            finally:
                os._exit(0)
        os.close(w)

    def message(self, key: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                self.seen.update(json.loads(line))
            assert "crash" not in self.seen, f"the cell raised: {self.seen['crash']}"
            if key in self.seen:
                return self.seen[key]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                raise AssertionError(f"no {key!r} from the sandbox within {timeout} s")
            chunk = os.read(self.r, 65536)
            if not chunk:
                raise AssertionError(f"the sandbox ended without sending {key!r}")
            self.buffer += chunk

    def close(self) -> None:
        # Killing the relay kills the cell (PDEATHSIG), and with pid 1 its whole namespace.
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.relay, signal.SIGKILL)
        os.waitpid(self.relay, 0)
        os.close(self.r)


def run_sandboxed(
    config: SandboxConfig, threat: Callable[..., Any], **kwargs: Any
) -> tuple[SandboxReport, Any]:
    box = Sandboxed(config, threat, **kwargs)
    try:
        report = SandboxReport.from_json(box.message("report"))
        return report, box.message("result")
    finally:
        box.close()


@dataclass
class Dirs:
    root: Path
    scratch: Path  # the cell's only writable place
    lesson: Path  # in read_paths
    home: Path  # a home-like folder the cell must not read
    outside: Path  # world-writable, not scratch: only Landlock stands in the way

    def config(self, **kwargs: Any) -> SandboxConfig:
        return SandboxConfig(scratch=self.scratch, read_paths=[self.lesson], **kwargs)


@pytest.fixture
def dirs() -> Iterator[Dirs]:
    # Not tmp_path: pytest makes /tmp/pytest-of-root mode 700, and the unprivileged test needs
    # to reach these. Modes are permissive on purpose so that Landlock, not file permissions,
    # is what each test exercises.
    root = Path(tempfile.mkdtemp(prefix="sandbox-test-", dir="/tmp"))
    root.chmod(0o755)
    d = Dirs(root, root / "scratch", root / "lesson", root / "home", root / "outside")
    for p in (d.scratch, d.lesson, d.home, d.outside):
        p.mkdir()
        p.chmod(0o777)
    (d.lesson / "data.txt").write_text("lesson data")
    (d.home / "secret.txt").write_text("api key")
    (d.home / "secret.txt").chmod(0o644)
    if IS_ROOT:
        os.chown(d.scratch, NOBODY, NOBODY)
    yield d
    shutil.rmtree(root, ignore_errors=True)


def has(report: SandboxReport, protection: str) -> bool:
    return any(a.startswith(protection) for a in report.active)


def require(report: SandboxReport, *protections: str) -> None:
    """Skip, with the sandbox's own reason, when the kernel lacks what the test is about."""
    for name in protections:
        if not any(a.startswith(name) for a in report.active):
            why = report.missing.get(name) or report.missing.get(name.split()[0]) or "not active"
            pytest.skip(f"{name} unavailable on this kernel: {why}")


# -- the report -------------------------------------------------------------------------


def test_report_json_round_trip_and_summary() -> None:
    full = SandboxReport(active=["user namespace", "rlimits"], missing={})
    assert full.full and full.headline() == "sandbox: full"
    partial = SandboxReport(active=["rlimits"], missing={"landlock": "kernel has no Landlock"})
    assert not partial.full
    assert partial.summary() == "sandbox: partial — no landlock (kernel has no Landlock)"
    assert partial.headline() == "sandbox: partial (no landlock)"
    assert full.summary() == "sandbox: full (user namespace, rlimits)"
    assert full.details() == ["on   user namespace", "on   rlimits"]
    assert partial.details() == ["on   rlimits", "off  landlock: kernel has no Landlock"]
    back = SandboxReport.from_json(json.loads(json.dumps(partial.to_json())))
    assert back == partial
    assert not SandboxReport().full


@pytest.mark.timeout(30)
def test_probe_is_full_on_this_kernel() -> None:
    report = probe()
    abi, why = sandbox.landlock_abi()
    if abi < 6:
        pytest.skip(f"kernel Landlock ABI {abi} < 6 ({why}): full is not possible here")
    if IS_ROOT and not sandbox.kernel_at_least(6, 14):
        pytest.skip("as root the process limit needs per-namespace pid_max (Linux 6.14)")
    assert report.full, report.summary()
    assert f"landlock filesystem (ABI {abi})" in report.active
    for name in ("user namespace", "network namespace", "pid namespace", "landlock network"):
        assert name in report.active


# -- threats ----------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_no_network_not_even_loopback(dirs: Dirs) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.setblocking(False)

    def threat(send: Any) -> dict[str, str]:
        listener.close()  # the inherited fd is not the point; connecting is
        return {
            "tcp": outcome(lambda: socket.create_connection(("127.0.0.1", port), timeout=3)),
            "bind": outcome(lambda: socket.create_server(("127.0.0.1", 0))),
            "udp": outcome(
                lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
                    b"x", ("1.1.1.1", 53)
                )
            ),
        }

    try:
        report, result = run_sandboxed(dirs.config(), threat)
        assert "network namespace" in report.active or "landlock network" in report.active
        # ENETUNREACH from the empty network namespace, or EACCES from Landlock first.
        assert result["tcp"] in ("ENETUNREACH", "EACCES"), result
        assert result["udp"] == "ENETUNREACH" or "network namespace" not in report.active, result
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever reached the test's socket
    finally:
        listener.close()


@pytest.mark.timeout(30)
def test_writes_only_inside_scratch(dirs: Dirs) -> None:
    def threat(send: Any) -> dict[str, str]:
        return {
            "scratch": outcome(lambda: Path("note.txt").write_text("ok")),  # cwd is scratch
            "tempfile": outcome(lambda: tempfile.NamedTemporaryFile(dir=None).close()),
            "outside": outcome(lambda: (dirs.outside / "x.txt").write_text("no")),
            "mkdir outside": outcome(lambda: (dirs.outside / "d").mkdir()),
            "tmp": outcome(lambda: Path("/tmp/sandbox-escape.txt").write_text("no")),
            "lesson": outcome(lambda: (dirs.lesson / "data.txt").write_text("changed")),
            "devnull": outcome(lambda: Path("/dev/null").write_text("fine")),
            "cwd": os.getcwd(),
            "tmpdir": tempfile.gettempdir(),
        }

    report, result = run_sandboxed(dirs.config(), threat)
    require(report, "landlock filesystem")
    assert result["scratch"] == result["tempfile"] == result["devnull"] == "ok", result
    if has(report, "mount namespace"):
        # The scratch is a tmpfs of the cell's own, also its /tmp; host folders are absent,
        # the lesson is mounted read-only (Landlock may say EACCES before the VFS's EROFS).
        assert result["cwd"] == result["tmpdir"] == "/scratch"
        assert not (dirs.scratch / "note.txt").exists()
        assert result["tmp"] == "ok"
        assert result["outside"] == result["mkdir outside"] == "ENOENT", result
        assert result["lesson"] in ("EACCES", "EROFS"), result
    else:
        assert (dirs.scratch / "note.txt").read_text() == "ok"
        assert result["cwd"] == result["tmpdir"] == str(dirs.scratch)
        for key in ("outside", "mkdir outside", "tmp", "lesson"):
            assert result[key] == "EACCES", (key, result)
    assert not list(dirs.outside.iterdir())
    assert not Path("/tmp/sandbox-escape.txt").exists()
    assert (dirs.lesson / "data.txt").read_text() == "lesson data"


@pytest.mark.timeout(30)
def test_reads_only_allowed_paths(dirs: Dirs) -> None:
    def threat(send: Any) -> dict[str, str]:
        return {
            "secret": outcome(lambda: (dirs.home / "secret.txt").read_text()),
            "list home": outcome(lambda: os.listdir(dirs.home)),
            "list /tmp": outcome(lambda: os.listdir("/tmp")),
            "lesson": (dirs.lesson / "data.txt").read_text(),
            "etc": outcome(lambda: Path("/etc/passwd").read_text()),
        }

    report, result = run_sandboxed(dirs.config(), threat)
    require(report, "landlock filesystem")
    if has(report, "mount namespace"):  # absent from the cell's root; its /tmp is scratch
        assert result["secret"] == result["list home"] == "ENOENT", result
        assert result["list /tmp"] == "ok"
    else:
        assert result["secret"] == result["list home"] == result["list /tmp"] == "EACCES", result
    assert result["lesson"] == "lesson data" and result["etc"] == "ok"


@pytest.mark.timeout(60)
def test_python_still_works_after_confinement(dirs: Dirs) -> None:
    # Forget these so that importing them really reads the stdlib (and loads _sqlite3's .so).
    fresh = ["json", "decimal", "fractions", "statistics", "sqlite3", "csv", "email", "xml"]

    def threat(send: Any) -> dict[str, Any]:
        for name in list(sys.modules):
            if name.split(".")[0] in fresh:
                del sys.modules[name]
        importlib.invalidate_caches()
        import decimal
        import json as json_again
        import sqlite3
        import xml.dom.minidom

        db = sqlite3.connect(":memory:")
        proc = subprocess.run(
            [sys.executable, "-c", "import json; print(json.dumps([1, 2]))"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        return {
            "decimal": str(decimal.Decimal("0.1") + decimal.Decimal("0.2")),
            "json": json_again.dumps({"a": 1}),
            "sqlite": db.execute("select 40 + 2").fetchone()[0],
            "xml": xml.dom.minidom.parseString("<a/>").documentElement.tagName,
            "package": outcome(lambda: Path(sandbox.__file__).read_text()),
            "subprocess": [proc.returncode, proc.stdout.strip(), proc.stderr[-300:]],
        }

    report, result = run_sandboxed(dirs.config(), threat)
    require(report, "landlock filesystem")
    assert result["decimal"] == "0.3" and result["json"] == '{"a": 1}'
    assert result["sqlite"] == 42 and result["xml"] == "a" and result["package"] == "ok"
    assert result["subprocess"][:2] == [0, "[1, 2]"], result["subprocess"]


@pytest.mark.timeout(90)
def test_torch_trains_after_confinement(dirs: Dirs) -> None:
    pytest.importorskip("torch")  # in the app the host imports torch before forking; this is worse

    def threat(send: Any) -> float:
        import torch

        w = torch.tensor([1.0, 2.0], requires_grad=True)
        (w**2).sum().backward()
        return float(w.grad.sum())

    _, result = run_sandboxed(dirs.config(), threat)
    assert result == 6.0


@pytest.mark.timeout(30)
def test_cannot_signal_or_read_the_app(dirs: Dirs) -> None:
    app = os.getpid()  # the test process stands for the app
    # Without the app's own PR_SET_DUMPABLE 0 (set by an earlier WorkerHost in this process):
    # this test proves the sandbox alone keeps the cell out.
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)
    environ = f"/proc/{app}/environ"

    def before(send: Any) -> None:  # unconfined, the same user can read it: the threat is real
        send({"control": outcome(lambda: Path(environ).read_bytes())})

    def threat(send: Any) -> dict[str, str]:
        return {
            "kill": outcome(lambda: os.kill(app, 0)),
            "environ": outcome(lambda: Path(environ).read_bytes()),
            "mem": outcome(lambda: Path(f"/proc/{app}/mem").open("rb").close()),
        }

    box = Sandboxed(dirs.config(), threat, before=before)
    try:
        control = box.message("control")
        report = SandboxReport.from_json(box.message("report"))
        result = box.message("result")
    finally:
        box.close()
    assert control == "ok"
    # The point, as root too: in a user namespace root has no CAP_SYS_PTRACE over the app.
    require(report, "user namespace")
    assert result["kill"] in ("ESRCH", "EPERM"), result  # ESRCH: not in our pid namespace
    # ENOENT: the cell's own /proc shows only its pid namespace.
    assert result["environ"] in ("EACCES", "EPERM", "ENOENT"), result
    assert result["mem"] in ("EACCES", "EPERM", "ENOENT"), result


def _fork_bomb(limit: int) -> Callable[[Any], dict[str, Any]]:
    def threat(send: Any) -> dict[str, Any]:
        forked, error = 0, "none"
        while forked < limit:
            try:
                pid = os.fork()
            except OSError as e:
                error = errno.errorcode.get(e.errno, str(e.errno))
                break
            if pid == 0:
                time.sleep(30)  # dies with pid 1 long before this
                os._exit(0)
            forked += 1
        return {"forked": forked, "error": error}

    return threat


@pytest.mark.timeout(60)
def test_fork_bomb_is_bounded(dirs: Dirs) -> None:
    hold_r, hold_w = os.pipe()  # every bomb child holds hold_w: EOF means they all died
    box = Sandboxed(dirs.config(processes=16), _fork_bomb(1000), relay_closes=(hold_w,))
    os.close(hold_w)
    try:
        report = SandboxReport.from_json(box.message("report"))
        result = box.message("result", timeout=40)
    finally:
        box.close()
    try:
        if IS_ROOT:
            # RLIMIT_NPROC does not bind uid 0, even in a user namespace: pid_max does.
            require(report, "pid limit")
            assert "pid limit (pid_max 316)" in report.active
            bound = 316
        else:
            bound = 16
        assert result["error"] == "EAGAIN" and result["forked"] < bound, result
        assert select.select([hold_r], [], [], 10)[0] and os.read(hold_r, 1) == b"", "bomb survived"
    finally:
        os.close(hold_r)


@pytest.mark.timeout(30)
def test_memory_limit(dirs: Dirs) -> None:
    def threat(send: Any) -> dict[str, str]:
        return {
            "4 GiB": outcome(lambda: bytearray(4 * 1024**3)),
            "10 MiB": outcome(lambda: bytearray(10 * 1024**2)),
        }

    report, result = run_sandboxed(dirs.config(memory_bytes=512 * 1024**2), threat)
    assert "rlimits" in report.active
    assert result == {"4 GiB": "MemoryError", "10 MiB": "ok"}


@pytest.mark.timeout(30)
def test_file_size_limit(dirs: Dirs) -> None:
    def threat(send: Any) -> dict[str, Any]:
        fd = os.open("big.bin", os.O_WRONLY | os.O_CREAT, 0o600)
        chunk, written, error = b"x" * 65536, 0, "none"
        try:
            while written < 2 * 1024**2:
                written += os.write(fd, chunk)
        except OSError as e:
            error = errno.errorcode.get(e.errno, str(e.errno))
        os.close(fd)
        return {"error": error, "size": os.path.getsize("big.bin")}

    _, result = run_sandboxed(dirs.config(file_bytes=1024**2), threat)
    assert result == {"error": "EFBIG", "size": 1024**2}


@pytest.mark.timeout(30)
def test_killing_pid_1_kills_every_descendant(dirs: Dirs) -> None:
    hold_r, hold_w = os.pipe()

    def threat(send: Any) -> None:
        # A grandchild orphaned by a double fork, reparented to pid 1: it must die as well.
        if os.fork() == 0:
            if os.fork() == 0:
                send({"sleeper": os.getpid()})
                time.sleep(30)
            os._exit(0)
        os.wait()
        time.sleep(30)

    box = Sandboxed(dirs.config(), threat, relay_closes=(hold_w,))
    os.close(hold_w)
    try:
        report = SandboxReport.from_json(box.message("report"))
        require(report, "pid namespace")
        box.message("sleeper")
        assert not select.select([hold_r], [], [], 0.2)[0], "sleeper died too early"
        os.kill(box.message("cell_pid"), signal.SIGKILL)
        assert select.select([hold_r], [], [], 5)[0], "descendants outlived pid 1"
        assert os.read(hold_r, 1) == b""
    finally:
        box.close()
        os.close(hold_r)


@pytest.mark.timeout(60)
@pytest.mark.skipif(not IS_ROOT, reason="already unprivileged: the other tests cover this case")
def test_unprivileged_user(dirs: Dirs) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    bomb = _fork_bomb(100)

    def threat(send: Any) -> dict[str, Any]:
        listener.close()
        return {
            "uid": os.getuid(),
            "tcp": outcome(lambda: socket.create_connection(("127.0.0.1", port), timeout=3)),
            "scratch": outcome(lambda: Path("note.txt").write_text("ok")),
            "outside": outcome(lambda: (dirs.outside / "x.txt").write_text("no")),
            "secret": outcome(lambda: (dirs.home / "secret.txt").read_text()),
            "lesson": outcome(lambda: (dirs.lesson / "data.txt").read_text()),
            "bomb": bomb(send),
        }

    try:
        report, result = run_sandboxed(dirs.config(processes=16), threat, uid=NOBODY)
    finally:
        listener.close()
    require(report, "user namespace", "landlock filesystem")
    assert "process limit" not in report.missing  # RLIMIT_NPROC binds an ordinary user
    assert result["uid"] == NOBODY
    assert result["tcp"] in ("ENETUNREACH", "EACCES")
    assert result["scratch"] == result["lesson"] == "ok"
    denied = "ENOENT" if has(report, "mount namespace") else "EACCES"
    assert result["outside"] == result["secret"] == denied
    assert result["bomb"]["error"] == "EAGAIN" and result["bomb"]["forked"] < 16, result["bomb"]


# -- degrading --------------------------------------------------------------------------


def _in_child(fn: Callable[[], Any], timeout: float = 20.0) -> Any:
    """fn() in a forked child (no sandbox set up by us); its JSON result comes back."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            _die_with_parent()
            _send(w, {"result": fn()})
        except BaseException as e:  # noqa: BLE001 - never return into pytest
            _send(w, {"crash": repr(e)})
        finally:
            os._exit(0)
    os.close(w)
    try:
        ready = select.select([r], [], [], timeout)[0]
        line = os.read(r, 1 << 20).split(b"\n", 1)[0] if ready else b""
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(r)
    assert line, "the child gave no answer"
    msg = json.loads(line)
    assert "crash" not in msg, msg["crash"]
    return msg["result"]


@pytest.mark.timeout(30)
def test_confine_without_namespaces_degrades_and_keeps_global_pid_max(dirs: Dirs) -> None:
    global_pid_max = Path("/proc/sys/kernel/pid_max").read_text()
    global_user_namespaces = Path("/proc/sys/user/max_user_namespaces").read_text()

    def cell() -> dict[str, Any]:
        report = SandboxReport()
        confine_cell(dirs.config(), report)  # not pid 1 of a new pid namespace
        return report.to_json()

    report = SandboxReport.from_json(_in_child(cell))
    # Never the machine-wide pid_max: only a new namespace's own.
    assert Path("/proc/sys/kernel/pid_max").read_text() == global_pid_max
    # Nor the machine's max_user_namespaces: the rule needs the session's own namespace.
    assert Path("/proc/sys/user/max_user_namespaces").read_text() == global_user_namespaces
    assert "no user namespace" in report.missing["nested user namespace rule"], report
    assert not any(a.startswith("pid limit") for a in report.active)
    if IS_ROOT:
        assert "RLIMIT_NPROC does not bind root" in report.missing["process limit"]
        assert "no process limit" in report.summary()
    assert "rlimits" in report.active and "no_new_privs" in report.active


@pytest.mark.timeout(30)
def test_enter_namespaces_reports_instead_of_raising() -> None:
    def relay() -> dict[str, Any]:
        # The kernel refuses a user namespace to a multi-threaded process: EINVAL.
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
        report = SandboxReport()
        enter_namespaces(report)
        return report.to_json()

    report = SandboxReport.from_json(_in_child(relay))
    assert "EINVAL" in report.missing["user namespace"], report
    assert not report.full and report.summary().startswith("sandbox: partial — no user namespace")
