"""The class's shared host with real processes: one host, several learners' connections.

What a learner's app may ask for, what it is refused, and that one learner's hostile cell
reaches nobody else's session. The browser end is tests/test_classroom_browser.py."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from autograd_tutor.core.runner.client import WorkerError
from autograd_tutor.core.runner.client.classroom import RemoteHost, SharedHost
from autograd_tutor.core.runner.shared import protocol
from autograd_tutor.core.runner.shared.classcaps import ClassCaps
from tests.classroom.serving import serving

CAPS = ClassCaps(learner_sessions=2, session_memory_mb=256, session_processes=16)


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedHost]:
    host = SharedHost(CAPS)
    try:
        host.wait_ready()
        yield host
    finally:
        host.close()


def learner(shared: SharedHost, key: str) -> RemoteHost:
    return RemoteHost(str(shared.socket_path), key, keep_spare=False)


def test_only_the_servers_uid_can_reach_the_socket(shared):
    assert stat.S_IMODE(shared.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(shared.socket_path.stat().st_mode) == 0o600


def test_a_learner_gets_a_session_with_the_class_caps_and_its_words(shared):
    alice = learner(shared, "alice")
    try:
        info = alice.wait_ready()
        assert info["classroom"] == CAPS.describe()
        # The app asks for more than the class allows: it gets the class's caps. Nor may it
        # turn the seccomp filter off for itself.
        session = alice.new_session(memory_bytes=8 * 1024**3, processes=4096, seccomp=0)
        report = " ".join(session.sandbox.get("active", []))
        assert "session memory cap 256 MB" in report
        off = session.sandbox.get("missing", {}).get("seccomp filter", "")
        assert "turned off" not in off, session.sandbox
        outcome = session.run("import torch; print(torch.ones(2).sum().item())")
        assert (outcome.status, outcome.stdout) == ("ok", "2.0\n")
    finally:
        alice.close()


def test_past_the_learners_cap_a_session_is_refused_in_words(shared):
    bob = learner(shared, "bob")
    try:
        sessions = [bob.new_session(), bob.new_session()]
        with pytest.raises(WorkerError, match="the most this class allows per learner"):
            bob.new_session()
        sessions[0].close()  # one ends: the next is granted once the host saw it go
        for _ in range(50):
            try:
                sessions.append(bob.new_session())
                break
            except WorkerError:
                threading.Event().wait(0.1)
        else:
            raise AssertionError("no session after one ended")
    finally:
        bob.close()


def test_a_connection_without_a_learner_key_gets_nothing(shared):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(shared.socket_path))
        sock.sendall(json.dumps({"op": "hello", "learner": "../etc"}).encode())
        reply = protocol.recv(sock, deadline=_soon())
        assert reply["ev"] == "error"


def test_a_hostile_learner_reaches_nobody_and_ends_only_their_own_session(shared):
    carol, dave = learner(shared, "carol"), learner(shared, "dave")
    try:
        mine, theirs = carol.new_session(), dave.new_session()
        assert theirs.run("secret = 42").status == "ok"
        # Carol looks for Dave's session: no process of it is visible, no signal reaches it.
        probe = mine.run(
            "import os\n"
            f"try:\n    os.kill({theirs._relay.pid}, 9); print('reached')\n"
            "except OSError as e:\n    print('refused', type(e).__name__)\n"
            "print(sorted(p for p in os.listdir('/proc') if p.isdigit()))"
        )
        assert "refused" in probe.stdout, probe.stdout
        # A memory bomb ends Carol's session at the class's cap, and only hers.
        bomb = mine.run("hoard = []\nwhile True:\n    hoard.append(bytearray(32 * 2**20))")
        assert bomb.status == "memory"
        assert theirs.run("print(secret)").stdout == "42\n"
    finally:
        carol.close()
        dave.close()


def test_a_learner_who_leaves_takes_their_sessions_along(shared):
    erin = learner(shared, "erin")
    session = erin.new_session()
    pid = session._relay.pid
    erin._control.close()  # the app process is gone; its sessions must not linger
    erin._control = None
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}") or _zombie(pid):
            break
        threading.Event().wait(0.05)
    else:
        raise AssertionError("the relay outlived its learner's connection")
    erin.close()


@pytest.mark.slow  # starts a server (a torch import of its own)
def test_a_token_guards_the_page_and_learners_get_keys(tmp_path):
    with serving(tmp_path / "data", "--token", "s3cret") as served:
        base = served.base
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/", timeout=30)
        assert refused.value.code == 403
        assert b"access token" in refused.value.read()
        page = urllib.request.urlopen(f"{base}/?token=s3cret", timeout=30)
        assert "learner=" in page.url  # sent on to a fresh learner key of its own
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(f"{base}/?token=s3cret&learner=a/b", timeout=30)
        assert bad.value.code == 400


def _soon() -> float:
    import time

    return time.monotonic() + 30


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--session-memory-mb", "0"], "must be positive: --session-memory-mb"),
        (["--port", "70000"], "must be positive: --port"),
        (["/no/such/lessons"], "no such file or folder"),
    ],
)
def test_serve_refuses_bad_options_in_words(args, says, capsys):
    from autograd_tutor.cli import main

    assert main(["serve", *args]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_serve_help_shows_every_limit(capsys):
    from autograd_tutor.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for line in ClassCaps().describe():
        assert line in out.replace("\n  ", "\n")
