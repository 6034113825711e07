"""What a cell gets of the folders granted to it, against the real worker and kernel: no mocks.

A granted folder is the lesson author's (or whoever unpacked it): it may hold a symlink that
leads out of it, a FIFO or a Unix socket that a host process listens on. Each test puts the
real thing in a home-like folder and tries it from a cell.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autograd_tutor.core.lessonrun import lesson_read_paths
from autograd_tutor.core.runner.client import Session, WorkerHost
from autograd_tutor.core.runner.shared.sandbox_config import SandboxConfig
from tests.workers import ready_host

pytestmark = pytest.mark.slow

LESSON = "---\ntitle: grants\n---\n\n```python\n1 + 1\n```\n"
SECRET = "-----BEGIN OPENSSH PRIVATE KEY-----\n"
# A cell that tries each path and prints {path: "ok: <first bytes>" | errno name} as JSON.
TRY = """
import errno, json, os, socket
def read(p):
    try:
        if os.path.isdir(p):
            return "ok: " + ",".join(sorted(os.listdir(p)))
        with open(p, "rb") as f:
            return "ok: " + f.read(40).decode(errors="replace")
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def write_fifo(p):
    try:
        fd = os.open(p, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"from the cell")
        os.close(fd)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def connect(p):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(p)
        s.sendall(b"from the cell")
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
print(json.dumps({"read": {p: read(p) for p in READ}, "fifo": {p: write_fifo(p) for p in FIFO},
                  "connect": {p: connect(p) for p in CONNECT}}))
"""


@dataclass
class Home:
    root: Path
    home: Path
    lesson: Path
    ssh: Path


def make_home(assets_link: str | None) -> Home:
    # Not tmp_path (mode 700 for root): an ordinary user's run must reach it too. Modes are
    # permissive on purpose: the sandbox, not file permissions, is what is tested.
    root = Path(tempfile.mkdtemp(prefix="sandbox-grants-", dir="/tmp"))
    home = root / "home"
    ssh = home / ".ssh"
    ssh.mkdir(parents=True)
    (ssh / "id_rsa").write_text(SECRET)
    lesson = home / "lesson.md"
    lesson.write_text(LESSON)
    if assets_link is None:
        (home / "assets").mkdir()
    else:
        (home / "assets").symlink_to(assets_link)
    for p in (root, home, ssh):
        p.chmod(0o755)
    for p in (ssh / "id_rsa", lesson):
        p.chmod(0o644)
    return Home(root, home, lesson, ssh)


@pytest.fixture(scope="module")
def shared_home() -> Iterator[Home]:
    h = make_home(None)
    yield h
    shutil.rmtree(h.root, ignore_errors=True)


@pytest.fixture(scope="module")
def host(shared_home: Home) -> Iterator[WorkerHost]:
    """The app's worker with the fake home as its home: its own host, not the shared one."""
    with ready_host(home=shared_home.home) as h:
        yield h


@pytest.fixture
def plain_home(shared_home: Home) -> Iterator[Home]:
    """The shared home with an empty `assets/` folder again after the test."""
    yield shared_home
    assets = shared_home.home / "assets"
    if assets.is_symlink():
        assets.unlink()
    else:
        shutil.rmtree(assets, ignore_errors=True)
    assets.mkdir()
    assets.chmod(0o755)


@pytest.fixture
def linked_home(plain_home: Home) -> Home:
    """~/assets -> ~/.ssh"""
    assets = plain_home.home / "assets"
    assets.rmdir()
    assets.symlink_to(".ssh")
    return plain_home


def cell_tries(
    host: WorkerHost, home: Home, read: list[Path] = (), fifo: list[Path] = (),
    connect: list[Path] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """(what the cell got, the session's sandbox report) for a lesson in `home`.

    A fresh session, not a spare forked ahead: each test changes the folder first."""
    paths = lesson_read_paths(home.lesson, home.home)
    session: Session = host.new_session(read_paths=paths, spare=False)
    try:
        names = {"READ": read, "FIFO": fifo, "CONNECT": connect}
        prelude = "".join(f"{k} = {[str(p) for p in v]!r}\n" for k, v in names.items())
        result = session.run(prelude + TRY, timeout=30)
        assert result.status == "ok", result
        return json.loads(result.stdout.strip().splitlines()[-1]), session.sandbox
    finally:
        session.close()


# -- symlinks ---------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_a_granted_path_that_leaves_its_folder_is_refused() -> None:
    h = make_home(".ssh")  # ~/assets -> ~/.ssh
    try:
        paths = lesson_read_paths(h.lesson, h.home)
        config = SandboxConfig(scratch=h.root, read_paths=paths, home=h.home)
        assert config.granted_reads() == [h.lesson]
        refused = config.refused_reads()
        assert list(refused) == [str(h.home / "assets")]
        assert str(h.ssh) in refused[str(h.home / "assets")]
        # A link that stays inside its folder is kept; one to the folder itself is not.
        lessons = h.home / "lessons"
        (lessons / "data").mkdir(parents=True)
        (lessons / "inside").symlink_to("data")
        (lessons / "self").symlink_to(".")
        config.read_paths = [lessons / "inside", lessons / "self"]
        assert config.granted_reads() == [lessons / "inside"]
        assert list(config.refused_reads()) == [str(lessons / "self")]
    finally:
        shutil.rmtree(h.root, ignore_errors=True)


@pytest.mark.timeout(120)
def test_assets_linked_to_ssh_is_not_mounted(host: WorkerHost, linked_home: Home) -> None:
    got, sandbox = cell_tries(
        host, linked_home,
        read=[linked_home.home / "assets" / "id_rsa", linked_home.ssh / "id_rsa"],
    )  # fmt: skip
    assert all(not r.startswith("ok") for r in got["read"].values()), got
    refused = sandbox.get("refused", {})
    assert str(linked_home.home / "assets") in refused, sandbox


@pytest.mark.timeout(120)
def test_links_inside_a_granted_folder_lead_nowhere(host: WorkerHost, plain_home: Home) -> None:
    """A bind mount shows a symlink as it is; the cell resolves it in its own root, where the
    target (the home's other files) does not exist."""
    assets = plain_home.home / "assets"
    (assets / "abs").symlink_to(plain_home.ssh / "id_rsa")
    (assets / "rel").symlink_to("../.ssh/id_rsa")
    (assets / "dir").symlink_to(plain_home.ssh)
    (assets / "data.txt").write_text("asset data")
    (assets / "data.txt").chmod(0o644)
    links = [assets / "abs", assets / "rel", assets / "dir"]
    got, _ = cell_tries(host, plain_home, read=[*links, assets / "data.txt"])
    assert got["read"].pop(str(assets / "data.txt")) == "ok: asset data", got  # granted
    assert all(r in ("ENOENT", "EACCES") for r in got["read"].values()), got


# -- FIFOs and Unix sockets ---------------------------------------------------------------


class Listener:
    """A FIFO reader and a socket listener of the host's, in a granted folder; what reached
    them from the cell."""

    def __init__(self, folder: Path) -> None:
        self.fifo, self.sock = folder / "pipe", folder / "agent.sock"
        os.mkfifo(self.fifo, 0o666)
        self.fifo.chmod(0o666)  # anyone may write: only the sandbox stands in the way
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(self.sock))
        self.sock.chmod(0o777)
        self.server.listen(4)
        self.server.settimeout(0.2)
        self.fifo_fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.got: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            self.got.append("socket")
            conn.close()

    def close(self) -> list[str]:
        self._stop.set()
        self._thread.join()
        try:
            if os.read(self.fifo_fd, 100):
                self.got.append("fifo")
        except BlockingIOError:
            pass
        os.close(self.fifo_fd)
        self.server.close()
        return self.got


@pytest.mark.timeout(120)
def test_fifos_and_sockets_in_a_granted_folder_are_unusable(
    host: WorkerHost, plain_home: Home
) -> None:
    assets = plain_home.home / "assets"
    (assets / "deeper").mkdir()
    (assets / "deeper").chmod(0o755)
    top, deep = Listener(assets), Listener(assets / "deeper")
    try:
        got, sandbox = cell_tries(
            host, plain_home,
            fifo=[top.fifo, deep.fifo], connect=[top.sock, deep.sock],
        )  # fmt: skip
    finally:
        reached = top.close() + deep.close()
    assert reached == [], (reached, got)
    assert all(r != "ok" for part in ("fifo", "connect") for r in got[part].values()), got
    # An empty read-only file stands where each was: it is neither a FIFO nor a socket.
    expected = {errno.errorcode[errno.EROFS], errno.errorcode[errno.EACCES]}
    assert set(got["fifo"].values()) <= expected, got
    assert set(got["connect"].values()) <= {"ECONNREFUSED", "EACCES"}, got


@pytest.mark.timeout(30)
def test_the_copy_follows_no_symlink_swapped_in_after_the_check(plain_home: Home) -> None:
    """Between refused_reads' check and the mount, a host process could swap a granted folder
    for a symlink: the copy is made without following any, so it fails (ELOOP) instead."""
    from autograd_tutor.core.runner.sandbox import mounts
    from autograd_tutor.core.runner.sandbox.kernel import CLONE_NEWNS, CLONE_NEWUSER, unshare

    assets = plain_home.home / "assets"
    assets.rmdir()
    assets.symlink_to(".ssh")  # the swap, after a plan listed `assets` as a real folder
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = "?"
        try:
            if os.geteuid() != 0:  # open_tree(OPEN_TREE_CLONE) needs CAP_SYS_ADMIN
                unshare(CLONE_NEWUSER | CLONE_NEWNS)
            for path in (plain_home.ssh, assets):
                try:
                    os.close(mounts._clone(str(path)))
                    code = "ok"
                except OSError as e:
                    code = errno.errorcode.get(e.errno or 0, "?")
                os.write(w, f"{code}\n".encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        got = f.read().split()
    os.waitpid(pid, 0)
    if got and got[0] != "ok":
        pytest.skip(f"no mount copies here: {got[0]}")
    assert got == ["ok", "ELOOP"], got
