"""`Session.trial`: steps run in a fork of the session, which stays as it was (real worker)."""

from __future__ import annotations

from autograd_tutor.core.runner.client import Session

LESSON = "/lessons/demo.md"


def test_steps_share_the_copy_and_the_session_stays_as_it_was(session: Session) -> None:
    assert session.run("import torch\nx = torch.ones(2, requires_grad=True)\na = 1").status == "ok"
    ran = session.trial(
        [("a = 2\nx.sum().backward()\nb = 3", 5), ("assert a == 2 and b == 3\na", 9)],
        filename=LESSON,
    )
    assert [o.status for o in ran] == ["ok", "ok"]
    assert ran[1].value == "2"
    after = session.run("a, 'b' in globals(), x.grad", filename=LESSON)
    assert after.value == "(1, False, None)"


def test_a_step_that_fails_ends_the_trial_at_its_line(session: Session) -> None:
    (ran,) = session.trial([("y = 1\ny = 1 / 0", 20), ("y = 2", 30)], filename=LESSON)
    assert ran.status == "error" and ran.error is not None
    assert (ran.error.type, ran.error.line) == ("ZeroDivisionError", 21)
    assert session.run("'y' in globals()").value == "False"


def test_an_endless_step_times_out_and_the_session_lives_on(session: Session) -> None:
    session.run("a = 1")
    ran = session.trial([("while True:\n    pass", 1), ("a = 2", 3)], filename=LESSON, timeout=1)
    assert ran[0].status == "timeout"
    assert session.alive
    assert session.run("a").value == "1"


def test_a_copy_that_dies_is_an_error_of_the_step(session: Session) -> None:
    session.run("a = 1")
    (ran,) = session.trial([("import os\nos._exit(3)", 1)], filename=LESSON)
    assert ran.error is not None and ran.error.type == "SessionCopyDied"
    assert "code 3" in ran.error.message
    assert session.run("a").value == "1"
