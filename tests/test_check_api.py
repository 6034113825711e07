"""autograd_tutor.check's look at the learner's code: learner_code, uses, forbid, rerun,
in a real session (the cell process records what ran; check cells read it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autograd_tutor.core.results import CellOutcome
from autograd_tutor.core.runner.client import Session, WorkerHost

EN, ZH = "/lessons/01-demo.en.md", "/lessons/01-demo.zh.md"
IMPORTS = "from autograd_tutor.check import forbid, learner_code, rerun, uses\n"


@pytest.fixture
def session(worker_host: WorkerHost) -> Iterator[Session]:
    s = worker_host.new_session()
    assert s.run("import torch").status == "ok"
    yield s
    s.close()


def cell(session: Session, code: str, line: int = 1, filename: str = EN) -> CellOutcome:
    return session.run(code, filename=filename, line=line)


def test_learner_code_is_the_cell_that_ran_before_the_check(session: Session) -> None:
    cell(session, "y = 3  # the learner's")
    assert cell(session, IMPORTS + "learner_code()").value == '"y = 3  # the learner\'s"'
    # The check itself is the cell before the next check.
    assert "learner_code()" in str(cell(session, IMPORTS + "learner_code()").value)


def test_uses_reads_names_with_import_aliases(session: Session) -> None:
    cell(
        session,
        "import torch as t\n"
        "from torch.nn.utils import clip_grad_norm_ as clip\n"
        "x = t.ones(2, requires_grad=True)\n"
        "(g,) = t.autograd.grad((x * 2).sum(), x)\n"
        "loss = (x ** 2).sum()\nloss.backward()\nclip([x], 1.0)\n",
    )
    asked = (
        "torch.autograd.grad",  # t.autograd.grad
        ".backward",  # loss.backward()
        "backward",  # a plain name matches the attribute too
        "clip_grad_norm_",  # imported under another name
        "torch.nn.utils.clip_grad_norm_",
        "torch.func.hessian",  # not used
        "grad",  # t.autograd.grad's last part, and x.grad is not even there
        ".hessian",
    )
    found = cell(session, IMPORTS + f"[uses(n) for n in {asked!r}]").value
    assert found == "[True, True, True, True, True, False, True, False]"


def test_uses_resolves_a_module_alias_and_ignores_ipython_lines(session: Session) -> None:
    cell(session, "import torch.autograd as ag\n%time g = ag.grad\n")
    found = cell(session, IMPORTS + 'uses("torch.autograd.grad"), uses("torch.grad")').value
    assert found == "(True, False)"


FORBIDDEN = "x = torch.tensor(2.0, requires_grad=True)\n(g,) = torch.autograd.grad(x ** 3, x)\ng\n"
CHECK = IMPORTS + 'with forbid("torch.autograd.grad"):\n    rerun()\n'


@pytest.mark.parametrize(("filename", "said"), [(EN, "does not allow"), (ZH, "不允许调用")])
def test_forbid_makes_the_rerun_raise_in_the_lessons_language(
    session: Session, filename: str, said: str
) -> None:
    assert cell(session, FORBIDDEN, line=10, filename=filename).value == "tensor(12.)"
    checked = cell(session, CHECK, line=20, filename=filename)
    assert checked.status == "error" and checked.error is not None
    assert checked.error.type == "AssertionError"
    assert said in checked.error.message and "torch.autograd.grad" in checked.error.message
    assert checked.error.line == 11  # the learner's line that called it, rerun at its place
    # Put back on leaving: the function works again.
    assert cell(session, "torch.autograd.grad(x ** 2, x)").value == "(tensor(4.),)"


def test_forbid_catches_a_name_imported_in_an_earlier_cell(session: Session) -> None:
    cell(session, "from torch.autograd import grad\nx = torch.tensor(2.0, requires_grad=True)")
    cell(session, "(g,) = grad(x ** 3, x)")
    checked = cell(session, CHECK)
    assert checked.error is not None and "torch.autograd.grad" in checked.error.message
    assert cell(session, "grad is torch.autograd.grad").value == "True"


def test_forbid_a_method_of_a_class_then_put_it_back(session: Session) -> None:
    cell(session, "x = torch.tensor(2.0, requires_grad=True)\n(x * 3).backward()")
    checked = cell(session, IMPORTS + 'with forbid("torch.Tensor.backward"):\n    rerun()')
    assert checked.error is not None and "torch.Tensor.backward" in checked.error.message
    # The rerun made a fresh x and stopped at its backward(): put back, it works again.
    assert cell(session, "(x * 3).backward()\nx.grad").value == "tensor(3.)"


def test_rerun_runs_the_learners_code_again_in_the_session(session: Session) -> None:
    cell(session, "n = 0")
    cell(session, "n = n + 1")
    assert cell(session, IMPORTS + "rerun()\nn").value == "2"


def test_forbid_needs_a_full_dotted_name(session: Session) -> None:
    checked = cell(session, IMPORTS + 'with forbid("backward"):\n    pass')
    assert checked.error is not None and checked.error.type == "ValueError"
