"""The error explainer against what torch really raises.

Every case runs real code in-process, takes the exception's class name and `str()` (or the
warning's category and text), and checks that `explain` picks the expected entry in English
and in Chinese. Running with `code=""` checks that matching never depends on the cell's code:
a variant entry only tailors the text of its base entry.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from autograd_tutor.core.explain import (
    BUILTIN_DIR,
    CatalogueError,
    Explanation,
    catalogue,
    explain,
    explain_warning,
)
from autograd_tutor.core.explain.loader import PLACEHOLDER, PROSE_FIELDS, TEXT_FIELDS
from autograd_tutor.core.library import shipped_lessons
from autograd_tutor.core.zhstyle import load_glossary, text_problems

LESSON_IDS = {
    "tensors",
    "graph",
    "leaf-detach",
    "backward",
    "no-grad",
    "accumulate",
    "inplace",
    "descent",
    "linear-regression",
    "optim",
}
LANGS = ("en", "zh")

# (expected id, cell code). Code runs with `torch` and `np` defined.
ERROR_CASES: list[tuple[str, str]] = [
    ("leaf-inplace", "x = torch.tensor([1., 2.], requires_grad=True)\nx += 1"),
    ("leaf-inplace", "w = torch.ones(3, requires_grad=True)\nw.zero_()"),
    ("leaf-inplace", "layer = torch.nn.Linear(2, 1)\nlayer.weight.mul_(2)"),
    (
        "leaf-inplace-update",
        "w = torch.ones(3, requires_grad=True)\n(w ** 2).sum().backward()\nw -= 0.1 * w.grad",
    ),
    (
        "leaf-inplace-update",
        "model = torch.nn.Linear(2, 1)\nmodel(torch.ones(1, 2)).sum().backward()\n"
        "model.weight.sub_(0.1 * model.weight.grad)",
    ),
    ("leaf-view-inplace", "w = torch.ones(3, requires_grad=True)\nw[0] = 5.0"),
    ("leaf-view-inplace", "w = torch.ones(2, 3, requires_grad=True)\nw.view(-1).mul_(2)"),
    ("leaf-view-inplace", "w = torch.ones(3, requires_grad=True)\nw[:2] += 1"),
    ("backward-non-scalar", "x = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()"),
    ("backward-non-scalar", "x = torch.ones(3, requires_grad=True)\ntorch.autograd.grad(x**2, x)"),
    (
        "backward-twice",
        "x = torch.ones(3, requires_grad=True)\nloss = (x * x).sum()\n"
        "loss.backward()\nloss.backward()",
    ),
    (
        "backward-twice",
        "w = torch.ones(3, requires_grad=True)\nh = w.exp()\n"
        "for step in range(2):\n    h.sum().backward()",
    ),
    (
        "backward-twice",
        "x = torch.ones(3, requires_grad=True)\ny = (x * x).sum()\n"
        "torch.autograd.grad(y, x)\ntorch.autograd.grad(y, x)",
    ),
    ("no-grad-fn", "x = torch.ones(3)\nloss = (x * 2).sum()\nloss.backward()"),
    ("no-grad-fn", "x = torch.ones(3, requires_grad=True)\nx.detach().sum().backward()"),
    ("no-grad-fn", "x = torch.ones(3)\ntorch.autograd.grad(x.sum(), x)"),
    (
        "no-grad-fn-no-grad",
        "x = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n"
        "    loss = (x * 2).sum()\nloss.backward()",
    ),
    (
        "no-grad-fn-no-grad",
        "x = torch.ones(3, requires_grad=True)\nwith torch.inference_mode():\n"
        "    y = (x ** 2).sum()\ny.backward()",
    ),
    (
        "no-grad-fn-set-grad-enabled",
        "x = torch.ones(3, requires_grad=True)\ntorch.set_grad_enabled(False)\n"
        "loss = (x * 2).sum()\ntorch.set_grad_enabled(True)\nloss.backward()",
    ),
    (
        "no-grad-fn-set-grad-enabled",
        "w = torch.ones(2, requires_grad=True)\nwith torch.set_grad_enabled(False):\n"
        "    out = w.sum()\nout.backward()",
    ),
    (
        "no-grad-fn-rebind",
        "x = torch.ones(3, requires_grad=True)\nlr = 0.1\nfor step in range(2):\n"
        "    loss = (x ** 2).sum()\n    loss.backward()\n    with torch.no_grad():\n"
        "        x = x - lr * x.grad",
    ),
    (
        "no-grad-fn-rebind",
        "w = torch.ones(3, requires_grad=True)\n(w ** 2).sum().backward()\n"
        "w = w.detach() - 0.1 * w.grad\n(w ** 2).sum().backward()",
    ),
    (
        "no-grad-fn-rebind",
        "p = torch.ones(2, requires_grad=True)\n(p * 3).sum().backward()\n"
        "p = p.data - 0.5 * p.grad\n(p * 3).sum().backward()",
    ),
    ("int-requires-grad", "torch.tensor([1, 2, 3], requires_grad=True)"),
    ("int-requires-grad", "torch.arange(3).requires_grad_()"),
    ("int-requires-grad", "t = torch.zeros(2, dtype=torch.long)\nt.requires_grad = True"),
    ("int-requires-grad", "torch.nn.Parameter(torch.arange(3))"),
    (
        "inplace-saved",
        "x = torch.ones(3, requires_grad=True)\ny = x.exp()\ny += 1\ny.sum().backward()",
    ),
    (
        "inplace-saved",
        "w = torch.ones(3, requires_grad=True)\nx = torch.ones(3)\ny = (w * x).sum()\n"
        "x.add_(1)\ny.backward()",
    ),
    (
        "inplace-saved",
        "x = torch.tensor(1.0, requires_grad=True)\ny = torch.sigmoid(x)\ny.mul_(2)\ny.backward()",
    ),
    ("numpy-requires-grad", "x = torch.ones(3, requires_grad=True)\nx.numpy()"),
    ("numpy-requires-grad", "x = torch.ones(3, requires_grad=True)\nnp.asarray(x * 2)"),
    (
        "grad-none",
        "x = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n    x -= 0.1 * x.grad",
    ),
    ("grad-none", "x = torch.ones(3, requires_grad=True)\nx.grad.zero_()"),
    (
        "grad-none",
        "x = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n    x.sub_(x.grad)",
    ),
    ("grad-none", "x = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n    x -= x.grad"),
    (
        "grad-none-rebind",
        "x = torch.ones(3, requires_grad=True)\nlr = 0.1\nfor step in range(2):\n"
        "    loss = (x ** 2).sum()\n    loss.backward()\n    x = x - lr * x.grad",
    ),
    (
        "grad-none-rebind",
        "b = torch.zeros(1, requires_grad=True)\nfor i in range(3):\n"
        "    loss = ((b - 1) ** 2).sum()\n    loss.backward()\n    b = b - 0.1 * b.grad",
    ),
    (
        "backward-shape-mismatch",
        "x = torch.ones(3, requires_grad=True)\n(x * 2).backward(torch.ones(2))",
    ),
    (
        "backward-shape-mismatch",
        "x = torch.ones(2, 3, requires_grad=True)\n"
        "torch.autograd.grad(x * 2, x, grad_outputs=torch.ones(3, 2))",
    ),
    (
        "backward-shape-mismatch",
        "x = torch.ones(3, requires_grad=True)\n(x * 2).sum().backward(torch.ones(3))",
    ),
    (
        "nonleaf-requires-grad",
        "x = torch.ones(3, requires_grad=True)\ny = x * 2\ny.requires_grad = False",
    ),
    (
        "nonleaf-requires-grad",
        "x = torch.ones(3, requires_grad=True)\nx.exp().requires_grad_(False)",
    ),
    ("item-not-scalar", "torch.ones(3).item()"),
    ("item-not-scalar", "x = torch.ones(3, requires_grad=True)\nfloat(x * 2)"),
    ("item-not-scalar", "torch.ones(0).item()"),
    ("dtype-float-double", "torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64)"),
    (
        "dtype-float-double",
        "torch.nn.Linear(1, 1)(torch.from_numpy(np.linspace(0, 1, 5).reshape(-1, 1)))",
    ),
    ("dtype-float-double", "torch.ones(3) @ torch.ones(3, dtype=torch.float64)"),
    ("dtype-float-double", "torch.ones(2, 3) @ torch.ones(3, dtype=torch.float64)"),
    ("dtype-float-double", "torch.ones(2, 2, 3) @ torch.ones(2, 3, 2, dtype=torch.float64)"),
    (
        "dtype-float-double",
        "p = torch.sigmoid(torch.rand(3, requires_grad=True))\n"
        "torch.nn.functional.binary_cross_entropy(p, torch.rand(3, dtype=torch.float64))",
    ),
    ("dtype-float-double", "torch.nn.Conv1d(1, 1, 2)(torch.ones(1, 1, 4, dtype=torch.float64))"),
    ("dtype-mismatch", "torch.tensor([1, 2, 3]) @ torch.randn(3)"),
    ("dtype-mismatch", "torch.nn.Linear(3, 1)(torch.tensor([[1, 2, 3]]))"),
    ("dtype-mismatch", "a = torch.zeros(3, dtype=torch.long)\na += 0.5"),
    ("dtype-mismatch", "torch.nn.BatchNorm1d(3)(torch.ones(2, 3, dtype=torch.float64))"),
    (
        "optim-non-leaf",
        "w = torch.randn(3, requires_grad=True) * 0.1\ntorch.optim.SGD([w], lr=0.1)",
    ),
    ("optim-non-leaf", "b = torch.zeros(1, requires_grad=True) + 1\ntorch.optim.Adam([b])"),
    (
        "grad-unused",
        "x = torch.ones(3, requires_grad=True)\nz = torch.ones(3, requires_grad=True)\n"
        "torch.autograd.grad((x * 2).sum(), [x, z])",
    ),
    (
        "grad-unused",
        "a = torch.ones(1, requires_grad=True)\nb = torch.ones(1, requires_grad=True)\n"
        "torch.autograd.grad((a ** 2).sum(), b)",
    ),
    (
        "inference-tensor",
        "x = torch.ones(3, requires_grad=True)\nwith torch.inference_mode():\n"
        "    fast = x * 2\nmixed = fast * x",
    ),
    (
        "inference-tensor",
        "with torch.inference_mode():\n    t = torch.ones(3)\nt.add_(1)",
    ),
    (
        "inference-tensor",
        "with torch.inference_mode():\n    t = torch.ones(3)\nt.requires_grad_()",
    ),
    ("bool-ambiguous", "x = torch.ones(3)\nif x > 0:\n    pass"),
    ("bool-ambiguous", "loss = torch.ones(2)\nassert loss < 5"),
]

ERROR_CASES += [
    ("name-not-defined", "print(weights_never_defined)"),
    ("name-not-defined", "def f():\n    return lr_typo * 2\nf()"),
]

WARNING_CASES: list[tuple[str, str]] = [
    (
        "nonleaf-grad",
        "x = torch.ones(3, requires_grad=True)\nz = x * 2\nz.sum().backward()\nz.grad",
    ),
    ("nonleaf-grad", "a = torch.ones(2, requires_grad=True)\nb = a.exp()\nb.grad"),
    (
        "nonleaf-grad-rebind",
        "x = torch.ones(3, requires_grad=True)\nlr = 0.1\nfor step in range(2):\n"
        "    loss = (x ** 2).sum()\n    loss.backward()\n    x = x - lr * x.grad",
    ),
    (
        "nonleaf-grad-rebind",
        "w = torch.ones(2, requires_grad=True)\n(w * w).sum().backward()\n"
        "w = w - 0.5 * w.grad\ng = w.grad",
    ),
]


def run_cell(code: str) -> tuple[BaseException | None, list[warnings.WarningMessage]]:
    """Run a cell as the cell process would; return its exception and warnings."""
    namespace = {"torch": torch, "np": np}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(compile(code, "<cell>", "exec"), namespace)
        except Exception as exc:
            return exc, list(caught)
        finally:
            torch.set_grad_enabled(True)  # a case may switch grad mode off for good
    return None, list(caught)


def base_id(entry_id: str) -> str:
    by_id = {e.id: e for e in catalogue("en")}
    while by_id[entry_id].extends:
        entry_id = by_id[entry_id].extends
    return entry_id


@pytest.mark.parametrize(("expected", "code"), ERROR_CASES)
def test_error_explained(expected: str, code: str) -> None:
    exc, _ = run_cell(code)
    assert exc is not None, "the case must raise"
    exc_type, message = type(exc).__name__, str(exc)
    for lang in LANGS:
        found = explain(exc_type, message, lang=lang, code=code)
        assert found is not None, f"{lang}: no entry for {exc_type}: {message}"
        assert found.id == expected, f"{lang}: {exc_type}: {message}"
        # Without the code, the same message still gets its (base) explanation.
        plain = explain(exc_type, message, lang=lang)
        assert plain is not None and plain.id == base_id(expected)
        for field in TEXT_FIELDS:
            assert not PLACEHOLDER.search(getattr(found, field).replace("{}", "")), field


@pytest.mark.parametrize(("expected", "code"), WARNING_CASES)
def test_warning_explained(expected: str, code: str) -> None:
    _, caught = run_cell(code)
    assert caught, "the case must warn"
    for lang in LANGS:
        found = [
            explain_warning(w.category.__name__, str(w.message), lang=lang, code=code)
            for w in caught
        ]
        assert expected in {f.id for f in found if f is not None}
    # A warning is not an error: explain() must not pick warning entries.
    assert explain(caught[0].category.__name__, str(caught[0].message)) is None


def test_every_entry_has_two_real_triggers() -> None:
    counts = Counter(case_id for case_id, _ in ERROR_CASES + WARNING_CASES)
    for entry in catalogue("en"):
        assert counts[entry.id] >= 2, f"{entry.id} is triggered by {counts[entry.id]} cases"


def test_learner_names_and_message_details_fill_the_text() -> None:
    code = ERROR_CASES[4][1]  # model.weight.sub_(... model.weight.grad)
    exc, _ = run_cell(code)
    found = explain(type(exc).__name__, str(exc), code=code)
    assert found is not None and "model.weight" in found.what and "model.weight" in found.snippet

    code = "x = torch.ones(3, requires_grad=True)\ny = x.exp()\ny += 1\ny.sum().backward()"
    exc, _ = run_cell(code)
    for lang in LANGS:
        found = explain(type(exc).__name__, str(exc), lang=lang)
        assert found is not None
        assert "torch.FloatTensor [3]" in found.what and "0" in found.what and "1" in found.what

    exc, _ = run_cell("x = torch.ones(3, requires_grad=True)\n(x * 2).backward(torch.ones(2))")
    found = explain(type(exc).__name__, str(exc), lang="zh")
    assert found is not None and "[2]" in found.what and "[3]" in found.what

    code = WARNING_CASES[3][1]
    found = explain_warning(
        "UserWarning",
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed.",
        code=code,
    )
    assert found is not None and "`w = w - ... w.grad`" in found.what


def test_unknown_errors_and_qualified_type_names() -> None:
    assert explain("RuntimeError", "something else entirely") is None
    assert explain("KeyError", "'x'") is None
    message = "grad can be implicitly created only for scalar outputs"
    assert explain("builtins.RuntimeError", message).id == "backward-non-scalar"
    assert explain("ValueError", message) is None  # the type must match too
    assert explain("RuntimeError", message, lang="zh-CN").id == "backward-non-scalar"
    assert explain("RuntimeError", message, lang="fr").title == (
        explain("RuntimeError", message).title  # unknown language: English
    )


def test_explanation_to_json() -> None:
    found = explain("RuntimeError", "grad can be implicitly created only for scalar outputs")
    assert isinstance(found, Explanation)
    data = found.to_json()
    assert {"id", "title", "what", "why", "fix", "snippet", "lesson"} <= set(data)
    assert data["id"] == "backward-non-scalar" and data["lesson"] == "backward"


# ------------------------------------------------------------------ the catalogue itself


def test_catalogue_files_are_well_formed() -> None:
    en_files = sorted(p.name for p in (BUILTIN_DIR / "en").glob("*.yaml"))
    zh_files = sorted(p.name for p in (BUILTIN_DIR / "zh").glob("*.yaml"))
    assert en_files and en_files == zh_files
    entries = {lang: {e.id: e for e in catalogue(lang)} for lang in LANGS}
    assert set(entries["en"]) == set(entries["zh"])
    for entry_id, en in entries["en"].items():
        zh = entries["zh"][entry_id]
        assert zh.lang == "zh" and zh.path.parent.name == "zh"
        assert en.lesson in LESSON_IDS
        # Matching is the same in both languages; only the words differ.
        assert (zh.types, zh.match, zh.code_match, zh.priority, zh.kind, zh.lesson) == (
            en.types,
            en.match,
            en.code_match,
            en.priority,
            en.kind,
            en.lesson,
        )
        for field in ("title", "what", "why", "fix"):
            text = getattr(zh, field)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (entry_id, field)
            assert text != getattr(en, field)
        for e in (en, zh):
            assert e.snippet.strip(), (e.path, "snippet")
            # Snippets are real Python once {var} placeholders are filled.
            ast.parse(PLACEHOLDER.sub("x", e.snippet))
        # A code-tailored entry must extend a base entry that matches without code.
        if en.code_match:
            assert en.extends and not entries["en"][en.extends].code_match


def test_translations_only_carry_text() -> None:
    # A zh file sets id and words; what it matches comes from the English file.
    for path in (BUILTIN_DIR / "zh").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(data) <= {"id", *TEXT_FIELDS}, path


def test_every_entry_speaks_chinese_in_the_lessons_style() -> None:
    # Every entry has a Chinese file with all its prose, and that prose follows the Chinese
    # lessons' rules: full-width punctuation, the glossary's terms, glossed English quotes.
    glossary = load_glossary(shipped_lessons() / "glossary.yaml")
    problems = []
    for path in sorted((BUILTIN_DIR / "en").glob("*.yaml")):
        zh = BUILTIN_DIR / "zh" / path.name
        assert zh.is_file(), f"{path.name} has no Chinese text"
        data = yaml.safe_load(zh.read_text(encoding="utf-8"))
        english = yaml.safe_load(path.read_text(encoding="utf-8"))
        for field in PROSE_FIELDS:
            if field not in english:  # a variant (`extends`) takes it from its base
                continue
            text = data.get(field)
            assert isinstance(text, str) and re.search("[\u4e00-\u9fff]", text), (zh, field)
            problems += [f"{zh.name} {field}: {p}" for p in text_problems(text, glossary)]
    assert problems == []


def test_catalogue_is_cached() -> None:
    assert catalogue("en")[0] is catalogue("en")[0]


# ------------------------------------------------------------------------ extra folders

CUSTOM = """\
id: custom-div
type: ZeroDivisionError
match: 'division by zero'
lesson: descent
title: "Divided by zero"
what: >
  The learning rate schedule divided by zero.
why: >
  Python cannot divide by zero.
fix: >
  Start the step counter at 1.
snippet: |
  lr = 0.1 / (step + 1)
"""


def test_extra_dir_entry_is_picked_up(tmp_path: Path) -> None:
    (tmp_path / "errors" / "en").mkdir(parents=True)
    (tmp_path / "errors" / "en" / "custom-div.yaml").write_text(CUSTOM, encoding="utf-8")
    dirs = [tmp_path / "errors"]
    assert explain("ZeroDivisionError", "division by zero") is None
    found = explain("ZeroDivisionError", "division by zero", extra_dirs=dirs)
    assert found is not None and found.id == "custom-div" and found.lesson == "descent"
    # The language folder itself works too, and other languages fall back to English.
    assert explain("ZeroDivisionError", "x division by zero", extra_dirs=[dirs[0] / "en"])
    assert explain("ZeroDivisionError", "division by zero", lang="zh", extra_dirs=dirs).title == (
        "Divided by zero"
    )
    # A translation with only the words takes type and match from English.
    (tmp_path / "errors" / "zh").mkdir()
    (tmp_path / "errors" / "zh" / "custom-div.yaml").write_text(
        'id: custom-div\ntitle: "除以零"\nwhat: 学习率除以了零。\nwhy: 不能除以零。\n'
        "fix: 步数从 1 开始。\nsnippet: 'lr = 0.1 / (step + 1)'\n",
        encoding="utf-8",
    )
    found = explain("ZeroDivisionError", "division by zero", lang="zh", extra_dirs=dirs)
    assert found is not None and found.title == "除以零"
    assert "custom-div" in {e.id for e in catalogue("zh", dirs)}


def test_changed_extra_file_is_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "custom-div.yaml"  # a plain folder: English entries
    path.write_text(CUSTOM, encoding="utf-8")
    assert explain("ZeroDivisionError", "division by zero", extra_dirs=[tmp_path]).title == (
        "Divided by zero"
    )
    path.write_text(CUSTOM.replace("Divided by zero", "Zero!"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert explain("ZeroDivisionError", "division by zero", extra_dirs=[tmp_path]).title == "Zero!"


BROKEN = [
    # (file text, expected line, words in the message)
    ("id: custom-div\ntype: [RuntimeError\nmatch: x\n", 3, "invalid YAML"),
    ("id: custom-div\n  type: RuntimeError\n", 2, "invalid YAML"),
    (CUSTOM.replace("match: 'division by zero'", "match: 'division (by zero'"), 3, "regular"),
    (CUSTOM.replace("lesson: descent", "lesson: descent\nmathc: foo"), 5, "unknown field 'mathc'"),
    (CUSTOM.replace("id: custom-div", "id: other-name"), 1, "must match the file name"),
    (CUSTOM.replace("  The learning", "  {var} learning"), 7, "{var}"),
    (CUSTOM.replace("lesson: descent", "extends: nowhere"), 4, "extends unknown entry"),
    (CUSTOM.replace("lesson: descent", "priority: high"), 4, "priority"),
    (CUSTOM.replace("lesson: descent", "extends: custom-div"), 4, "extends loops"),
    ("- just\n- a list\n", 1, "mapping"),
    ("", 1, "empty"),
    ("\n".join(CUSTOM.splitlines()[:5]) + "\n", 1, "missing fields: what, why, fix, snippet"),
]


@pytest.mark.parametrize(("text", "line", "words"), BROKEN)
def test_broken_file_gives_path_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    folder = tmp_path / "errors" / "en"
    folder.mkdir(parents=True)
    path = folder / "custom-div.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        explain("ZeroDivisionError", "division by zero", extra_dirs=[tmp_path / "errors"])
    err = info.value
    assert err.path == path.resolve() and err.line == line, str(err)
    assert str(err).startswith(f"{path.resolve()}:{line}: ") and words in str(err)


def test_ui_imports_stay_light() -> None:
    """The UI process must never pay for (or depend on) torch or textual to explain."""
    code = textwrap.dedent(
        """
        import sys
        import autograd_tutor.core.explain as ex
        import autograd_tutor.core.graphtext as gt
        ex.explain("RuntimeError", "grad can be implicitly created only for scalar outputs")
        gt.render_graph({"root": "x", "nodes": [], "edges": []})
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "textual")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
