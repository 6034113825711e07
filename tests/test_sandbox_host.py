"""The sandbox against the host, through the real worker and the real kernel: no mocks.

Each hole a cell could use to reach the machine it runs on is a test: the home opened by a
lesson that lives there, the host's Unix sockets, the host's /proc, root's files. Each test
skips, with the sandbox's own reason, where the kernel lacks the protection it is about.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autograd_tutor.core.lessonrun import LessonRun, lesson_read_paths
from autograd_tutor.core.parser import parse_file
from autograd_tutor.core.runner.client import Session, WorkerHost
from autograd_tutor.core.runner.sandbox import (
    SandboxConfig,
    SandboxReport,
    confine_cell,
    enter_namespaces,
)
from autograd_tutor.core.runner.sandbox.limits import drop_capabilities
from tests.workers import ready_host, require

# Slow lane (each hole tried against its own hosts): CI runs it; `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

IS_ROOT = os.getuid() == 0
CLI = [sys.executable, "-m", "autograd_tutor"]
# A cell that tries each path and prints {path: "ok" | errno name} as JSON.
TRY_READ = """
import errno, json, os
def attempt(p):
    try:
        os.listdir(p) if os.path.isdir(p) else open(p, "rb").read()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
print(json.dumps({p: attempt(p) for p in PATHS}))
"""


@dataclass
class Home:
    root: Path
    home: Path  # a home-like folder: the lesson lives in it, next to its secrets
    lesson: Path
    key: Path  # <home>/.ssh/id_rsa
    asset: Path  # <home>/assets/data.txt: the lesson may read it
    notes: Path  # another file in the home: the lesson may not


@pytest.fixture(scope="module")
def fake_home() -> Iterator[Home]:
    # Not tmp_path (mode 700 for root): the ordinary-user run must reach these too. Modes are
    # permissive on purpose, so that the sandbox, not file permissions, is what is tested.
    root = Path(tempfile.mkdtemp(prefix="sandbox-host-", dir="/tmp"))
    root.chmod(0o755)
    home = root / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / "assets").mkdir()
    key, asset, notes = home / ".ssh" / "id_rsa", home / "assets" / "data.txt", home / "notes.txt"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    asset.write_text("asset data")
    notes.write_text("private notes")
    lesson = home / "lesson.md"
    lesson.write_text("---\ntitle: home lesson\n---\n\n```python\n1 + 1\n```\n")
    for p in (root, home, home / ".ssh", home / "assets"):
        p.chmod(0o755)
    for p in (key, asset, notes, lesson):
        p.chmod(0o644)
    yield Home(root, home, lesson, key, asset, notes)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def host(fake_home: Home) -> Iterator[WorkerHost]:
    """The app's worker with the fake home as its home: its own host, not the shared one."""
    with ready_host(home=fake_home.home) as h:
        yield h


def run_json(session: Session, code: str, **names: Any) -> Any:
    prelude = "".join(f"{k} = {v!r}\n" for k, v in names.items())
    result = session.run(prelude + code, timeout=30)
    assert result.status == "ok", result
    return json.loads(result.stdout.strip().splitlines()[-1])


def tried(session: Session, *paths: Path | str) -> dict[str, str]:
    return run_json(session, TRY_READ, PATHS=[str(p) for p in paths])


# -- the home --------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_lesson_in_home_gets_its_file_and_assets_only(fake_home: Home) -> None:
    paths = lesson_read_paths(fake_home.lesson, fake_home.home)
    assert paths == [fake_home.lesson, fake_home.home / "assets"]
    # Any folder above the home, and /, are as closed as the home itself.
    assert lesson_read_paths(fake_home.root / "up.md", fake_home.home)[0].name == "up.md"
    assert lesson_read_paths(Path("/x.md"), fake_home.home) == [Path("/x.md"), Path("/assets")]
    nested = fake_home.home / "lessons" / "a.md"
    assert lesson_read_paths(nested, fake_home.home) == [nested.parent]


@pytest.mark.timeout(60)
def test_cell_of_a_lesson_in_home_cannot_read_the_home(host: WorkerHost, fake_home: Home) -> None:
    run = LessonRun(host, parse_file(fake_home.lesson))
    try:
        session = run.ensure_session()
        require(session.sandbox, "landlock filesystem")
        got = tried(
            session, fake_home.key, fake_home.notes, fake_home.home, fake_home.lesson,
            fake_home.asset,
        )  # fmt: skip
        listing = run_json(
            session,
            "import json, os\ntry:\n    found = os.listdir(HOME)\n"
            "except OSError:\n    found = []\nprint(json.dumps(found))",
            HOME=str(fake_home.home),
        )
    finally:
        run.close()
    # ENOENT: not in the cell's root at all; EACCES: Landlock, where there is no mount ns.
    assert got[str(fake_home.key)] in ("ENOENT", "EACCES"), got
    assert got[str(fake_home.notes)] in ("ENOENT", "EACCES"), got
    assert got[str(fake_home.lesson)] == got[str(fake_home.asset)] == "ok", got
    # The home itself holds, at most, the mount points of what was granted.
    assert set(listing) <= {"lesson.md", "assets"}, listing


@pytest.mark.timeout(120)
def test_run_command_with_a_lesson_in_home(fake_home: Home, tmp_path: Path) -> None:
    lesson = fake_home.home / "cli-lesson.md"
    lesson.write_text(
        "---\ntitle: t\n---\n\n"
        f'```python tags=["raises-exception"]\nopen({str(fake_home.key)!r}).read()\n```\n\n'
        f"```python\nprint(open({str(lesson)!r}).read()[:3])\n```\n"
    )
    lesson.chmod(0o644)
    env = {**os.environ, "HOME": str(fake_home.home)}  # the app's home is computed from HOME
    result = subprocess.run(
        [*CLI, "run", str(lesson), "--json"],
        capture_output=True, text=True, timeout=100, env=env, cwd=tmp_path,
    )  # fmt: skip
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(records) == 2, result.stdout + result.stderr
    key_cell, own_cell = records
    assert key_cell["status"] == "error", key_cell
    assert key_cell["error"]["type"] in ("FileNotFoundError", "PermissionError"), key_cell
    assert "BEGIN" not in json.dumps(key_cell)
    assert own_cell["status"] == "ok" and "---" in own_cell["stdout"], own_cell
    assert result.returncode == 0, result.stdout + result.stderr


# -- sockets, /proc, root's files --------------------------------------------------------


@pytest.mark.timeout(60)
def test_host_unix_sockets_are_unreachable(host: WorkerHost, tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="sandbox-sock-", dir="/tmp"))
    folder.chmod(0o755)
    path = folder / "agent.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
        path.chmod(0o777)  # anyone may connect: only the sandbox stands in the way
        listener.listen(1)
        listener.setblocking(False)
        session = host.new_session(spare=False)
        try:
            require(session.sandbox, "mount namespace")
            got = run_json(
                session,
                "import errno, json, os, socket\n"
                "s = socket.socket(socket.AF_UNIX)\n"
                "try:\n    s.connect(SOCK); r = 'ok'\n"
                "except OSError as e:\n    r = errno.errorcode.get(e.errno, str(e.errno))\n"
                "print(json.dumps({'connect': r, 'run': os.path.exists('/run'),"
                " 'var/run': os.path.exists('/var/run'), 'var': os.path.exists('/var')}))",
                SOCK=str(path),
            )
        finally:
            session.close()
        assert got == {"connect": "ENOENT", "run": False, "var/run": False, "var": False}, got
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever reached it
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(60)
def test_system_v_shared_memory_dies_with_the_session(host: WorkerHost) -> None:
    """A segment outlives its process: outside an IPC namespace of the session's own, a cell
    could leave memory on the machine that no session cap counts."""
    session = host.new_session(spare=False)
    try:
        shmid = run_json(
            session,
            "import ctypes, json\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "print(json.dumps(libc.shmget(0x5EED, 4 << 20, 0o1666)))",  # IPC_CREAT | 0666
        )
    finally:
        session.close()
    assert shmid >= 0
    with open("/proc/sysvipc/shm") as f:
        rows = [line.split() for line in f.readlines()[1:] if line.strip()]
    leaked = [int(row[1]) for row in rows if int(row[0]) == 0x5EED]
    for segment in leaked:  # leave the machine as we found it
        subprocess.run(["ipcrm", "-m", str(segment)], check=False)
    refused = (session.sandbox.get("missing") or {}).get("ipc namespace")
    if leaked and refused:
        pytest.skip(f"this kernel refused an IPC namespace: {refused}")
    assert not leaked, "the cell's segment outlived its session on the host"


@pytest.mark.timeout(60)
def test_proc_shows_only_the_sessions_processes(host: WorkerHost) -> None:
    marker = f"sandbox-proc-marker-{os.getpid()}"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    session = host.new_session(spare=False)
    try:
        require(session.sandbox, "own /proc")
        got = run_json(
            session,
            "import json, os\n"
            "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
            "cmds = []\n"
            "for p in pids:\n"
            "    try:\n        cmds.append(open(f'/proc/{p}/cmdline', 'rb').read().decode())\n"
            "    except OSError:\n        pass\n"
            "print(json.dumps({'pids': pids, 'cmds': cmds,"
            " 'test': os.path.exists(f'/proc/{TEST}/cmdline') and TEST != 1}))",
            TEST=os.getpid(),
        )
    finally:
        session.close()
        sleeper.kill()
        sleeper.wait()
    assert got["pids"] == [1], got  # the cell process, pid 1 of its namespace, alone
    assert not got["test"], got  # the test's own pid is not there
    assert not any(marker in c or "pytest" in c for c in got["cmds"]), got["cmds"]


@pytest.mark.timeout(60)
@pytest.mark.skipif(
    not IS_ROOT, reason="root's files are the point; an ordinary user never had them"
)
def test_as_root_roots_files_are_unreadable(host: WorkerHost, tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="sandbox-rootfile-", dir="/tmp"))
    folder.chmod(0o755)
    lesson = folder / "lesson.md"
    lesson.write_text("---\ntitle: t\n---\n")
    lesson.chmod(0o644)
    secret = folder / "root-only.txt"
    secret.write_text("root's secret")
    secret.chmod(0o600)
    session = host.new_session(read_paths=[folder], spare=False)
    try:
        require(session.sandbox, "uid mapping", "mount namespace")
        got = tried(session, secret, "/etc/shadow", lesson, "/etc/passwd")
        ids = run_json(session, "import json, os\nprint(json.dumps([os.getuid(), os.geteuid()]))")
    finally:
        session.close()
        shutil.rmtree(folder, ignore_errors=True)
    assert got[str(secret)] == got["/etc/shadow"] == "EACCES", got
    assert got[str(lesson)] == got["/etc/passwd"] == "ok", got
    assert ids == [0, 0]  # root inside its namespace, uid 65534 to the files outside


# -- the scratch tmpfs -------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_scratch_is_a_size_limited_tmpfs(host: WorkerHost) -> None:
    session = host.new_session(scratch_bytes=1024**2, spare=False)
    try:
        require(session.sandbox, "mount namespace")
        got = run_json(
            session,
            "import errno, json, os, tempfile\n"
            "r = 'none'\n"
            "try:\n"
            "    with open('big.bin', 'wb') as f:\n"
            "        for _ in range(32):\n            f.write(b'x' * 65536); f.flush()\n"
            "except OSError as e:\n    r = errno.errorcode.get(e.errno, str(e.errno))\n"
            "os.remove('big.bin')\n"
            "with open('/tmp/via-tmp.txt', 'w') as f:\n    f.write('same')\n"
            "print(json.dumps({'error': r, 'cwd': os.getcwd(), 'home': os.environ['HOME'],"
            " 'tmpdir': tempfile.gettempdir(), 'same': open('via-tmp.txt').read()}))",
        )
        again = session.run("40 + 2", timeout=30)
    finally:
        session.close()
    assert got["error"] == "ENOSPC", got
    assert got["cwd"] == got["home"] == got["tmpdir"] == "/scratch" and got["same"] == "same"
    assert again.status == "ok" and again.value == "42", again  # the session survives


# -- degrading ---------------------------------------------------------------------------


def _confined_report(before_confine: Any) -> SandboxReport:
    """enter_namespaces + confine_cell in forked children; the cell's report comes back."""
    r, w = os.pipe()
    scratch = Path(tempfile.mkdtemp(prefix="sandbox-degraded-", dir="/tmp"))
    scratch.chmod(0o777)
    relay = os.fork()
    if relay == 0:
        try:
            os.close(r)
            report = SandboxReport()
            config = SandboxConfig(scratch=scratch, read_paths=[])
            enter_namespaces(report, config)
            cell = os.fork()
            if cell == 0:
                try:
                    before_confine()
                    confine_cell(config, report)
                    report.active.append(f"cwd {os.getcwd()}")
                    os.write(w, json.dumps(report.to_json()).encode() + b"\n")
                finally:
                    os._exit(0)
            config.plan.close()
            os.waitpid(cell, 0)
        finally:
            os._exit(0)
    os.close(w)
    try:
        data = b""
        deadline = time.monotonic() + 20
        while b"\n" not in data and time.monotonic() < deadline:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
        os.waitpid(relay, 0)
        shutil.rmtree(scratch, ignore_errors=True)
    assert data, "the cell gave no report"
    return SandboxReport.from_json(json.loads(data.split(b"\n")[0]))


@pytest.mark.timeout(30)
def test_without_a_mount_namespace_the_report_says_so() -> None:
    # The kernel refuses unshare(CLONE_NEWNS) to a process without CAP_SYS_ADMIN in its user
    # namespace, as a kernel or a container policy that forbids mount namespaces would.
    def give_up_capabilities() -> None:
        drop_capabilities(SandboxReport())

    report = _confined_report(give_up_capabilities)
    if "user namespace" not in report.active:
        pytest.skip(f"no user namespace here: {report.missing.get('user namespace')}")
    assert "EPERM" in report.missing["mount namespace"], report
    assert not any(a.startswith("mount namespace") for a in report.active)
    assert "no mount namespace" in report.summary()
    assert "own /proc" not in report.active
    # The rest still holds: the host scratch folder is the cwd, the other layers are on.
    assert any(a.startswith("cwd /tmp/sandbox-degraded-") for a in report.active), report
    assert "rlimits" in report.active and "no_new_privs" in report.active


@pytest.mark.timeout(120)
def test_sandbox_command_lists_the_mount_namespace_and_uid_mapping() -> None:
    result = subprocess.run([*CLI, "sandbox"], capture_output=True, text=True, timeout=100)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for name in ("mount namespace", "uid mapping", "own /proc"):
        assert any(line.startswith(f"  on   {name}") or line.startswith(f"  off  {name}")
                   for line in lines), result.stdout  # fmt: skip
    if not any("off  mount namespace" in line for line in lines):
        assert any(line.startswith("  on   mount namespace") for line in lines)
