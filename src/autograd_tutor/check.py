"""Exercise checks: messages in the learner's language, and a look at the learner's code.

    from autograd_tutor.check import forbid, learner_code, rerun, say, uses

A check cell is code, and code cells are identical across a lesson's translations, so a
check carries its message in every language and the lesson's language picks one:

    assert w.requires_grad, say(en="w must require gradients", zh="w 需要 requires_grad=True")

`assert` evaluates the message only when the check fails, so it may use names the check has
just found missing. The language is the one of the lesson file the calling cell runs from
(the cell's code is compiled under the lesson's path: `NN-slug.zh.md`, or front matter
`lang: zh`); elsewhere (Jupyter) it is `AUTOGRAD_TUTOR_LANG`, else English.

A check should look at the mechanism, not only the number, so it can read and repeat the
learner's code: `learner_code()` is the source of the cell that ran just before the check
(the exercise cell; the solution or a wrong answer under `check`), `uses(...)` says whether
it calls or names a function, `forbid(...)` makes functions raise while it is active, and
`rerun()` runs the learner's code again, e.g.

    with forbid("torch.autograd.grad"):
        rerun()  # the gradient must be worked out by hand

Standard library only: it runs in the cell process (docs/authoring.md, "Check helpers").
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from types import FrameType, TracebackType
from typing import Any

from autograd_tutor.core.runner.cell import history

__all__ = ["forbid", "language", "learner_code", "rerun", "say", "uses"]

_SUFFIX = re.compile(r"\.([a-z]{2})\.md$")
_FRONT_LANG = re.compile(r"^lang:\s*['\"]?([A-Za-z-]+)", re.MULTILINE)


@lru_cache(maxsize=64)
def _file_language(filename: str) -> str | None:
    """A lesson file's language: front matter `lang:` first (as the parser reads it), then
    the `.LANG.md` suffix."""
    if not filename.endswith(".md"):
        return None
    try:
        with open(filename, encoding="utf-8") as f:
            head = f.read(4096)
    except OSError:
        head = ""
    if head.lstrip("\ufeff").startswith("---"):
        front = head.lstrip("\ufeff")[3:].split("\n---", 1)[0]
        found = _FRONT_LANG.search(front)
        if found:
            return found.group(1)
    suffix = _SUFFIX.search(filename)
    return suffix.group(1) if suffix else None


def language(depth: int = 1) -> str:
    """The language of the lesson whose cell called (`depth` frames up), else the
    environment's, else English."""
    frame = sys._getframe(depth)
    while frame is not None:
        found = _file_language(frame.f_code.co_filename)
        if found:
            return found
        frame = frame.f_back
    return os.environ.get("AUTOGRAD_TUTOR_LANG") or "en"


def say(*, en: str, **others: str) -> str:
    """The message in the lesson's language (`zh=...`), English when it has none."""
    return others.get(language(2), en)


# -- the learner's code ---------------------------------------------------------------------


def learner_code() -> str:
    """The source of the cell that ran just before the calling cell in this session: the
    learner's exercise cell (the app runs an exercise's check right after it), or the
    solution or wrong answer that `check` runs in its place. In Jupyter: the cell before."""
    found = history.previous()
    if found is not None:
        return found.code
    return _jupyter_previous(sys._getframe(1)) or ""


def _jupyter_previous(frame: FrameType) -> str | None:
    cells = frame.f_globals.get("In")  # IPython's input history: In[-1] is the running cell
    if isinstance(cells, list) and len(cells) > 1 and isinstance(cells[-2], str):
        return cells[-2]
    return None


def rerun() -> None:
    """Run the learner's code (`learner_code()`) again in the calling cell's namespace (the
    session's), under its own lesson lines, so a check can repeat the learner's steps under
    `forbid(...)` or after changing an input. What it raises, the check raises."""
    caller = sys._getframe(1)
    found = history.previous()
    if found is not None:
        code, filename, line = found.code, found.filename, found.line
    else:
        code, filename, line = _jupyter_previous(caller) or "", "<learner code>", 1
    tree = _parse("\n" * (line - 1) + code, filename)
    exec(compile(tree, filename, "exec"), caller.f_globals)  # noqa: S102 - the learner's own


_MAGIC = re.compile(r"^(\s*)%{1,2}\w+(?:\s+-\S+)*\s?")  # `%time `, `%timeit -n 3 `


def _parse(code: str, filename: str = "<learner code>") -> ast.Module:
    """The code's syntax tree. IPython lines read as Python: a line magic's statement is
    kept (`%time g = f(x)` reads `g = f(x)`), a shell escape or `obj?` reads as blank."""
    try:
        return ast.parse(code, filename)
    except SyntaxError:
        lines = []
        for line in code.split("\n"):
            if line.lstrip().startswith("!") or line.rstrip().endswith("?"):
                line = ""
            lines.append(_MAGIC.sub(r"\1", line))
        return ast.parse("\n".join(lines), filename)


@dataclass
class _Names:
    dotted: set[str] = field(default_factory=set)  # full names, import aliases resolved
    attributes: set[str] = field(default_factory=set)  # every `.name`, whatever it is on
    plain: set[str] = field(default_factory=set)  # every bare name as written


def _names(code: str) -> _Names:
    tree = _parse(code)
    aliases: dict[str, str] = {}
    found = _Names()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                aliases[alias.asname or top] = alias.name if alias.asname else top
                found.dotted.add(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                aliases[alias.asname or alias.name] = full
                found.dotted.add(full)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            found.attributes.add(node.attr)
        elif isinstance(node, ast.Name):
            found.plain.add(node.id)
        chain = _chain(node)
        if chain:
            first, _, rest = chain.partition(".")
            full = aliases.get(first, first)
            found.dotted.add(f"{full}.{rest}" if rest else full)
    return found


def _chain(node: ast.AST) -> str | None:
    """`torch.autograd.grad` for that expression; None unless it is names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def uses(*dotted: str) -> bool:
    """Whether the learner's code (`learner_code()`) calls or names any of these, read
    from its syntax tree with import aliases resolved (`import torch as t` makes
    `t.autograd.grad` torch.autograd.grad): a full dotted name (`"torch.autograd.grad"`),
    an attribute on anything (`".backward"`), or a plain name (`"clip_grad_norm_"`), which
    matches a bare name or an attribute of that name. Code that never runs counts too:
    it is read, not run. `forbid` catches what reading cannot (getattr, a helper module)."""
    found = _names(learner_code())
    for name in dotted:
        if name.startswith("."):
            hit = name[1:] in found.attributes
        elif "." not in name:
            hit = (
                name in found.attributes
                or name in found.plain
                or any(d == name or d.endswith("." + name) for d in found.dotted)
            )
        else:
            hit = name in found.dotted
        if hit:
            return True
    return False


class forbid:  # noqa: N801 - used as a function: `with forbid("torch.autograd.grad"):`
    """While active, each named function (full dotted names: `"torch.autograd.grad"`,
    `"torch.func.hessian"`, `"torch.Tensor.backward"`) raises AssertionError naming it, in
    the lesson's language; so do the calling cell's own names for it (`from torch.autograd
    import grad` in an earlier cell). Everything is put back on leaving."""

    def __init__(self, *dotted: str) -> None:
        self.dotted = dotted
        self._undo: list[tuple[Any, str, Any, bool]] = []  # (owner, name, old, had its own)

    def __enter__(self) -> forbid:
        namespace = sys._getframe(1).f_globals
        for name in self.dotted:
            owner, attr = _owner(name)
            original = getattr(owner, attr)
            refuse = _refusal(name)
            self._swap(owner, attr, refuse)
            for key, value in list(namespace.items()):
                if value is original:
                    self._undo.append((namespace, key, value, True))
                    namespace[key] = refuse
        return self

    def _swap(self, owner: Any, attr: str, new: Any) -> None:
        own = attr in vars(owner)
        self._undo.append((owner, attr, vars(owner).get(attr), own))
        setattr(owner, attr, new)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for owner, attr, old, own in reversed(self._undo):
            if isinstance(owner, dict):
                owner[attr] = old
            elif own:
                setattr(owner, attr, old)
            else:
                delattr(owner, attr)  # it was inherited: the class's own attribute goes again
        self._undo.clear()


def _owner(dotted: str) -> tuple[Any, str]:
    """The object that holds the last part of `dotted`, and that part's name."""
    parts = dotted.split(".")
    if len(parts) < 2 or not all(parts):
        raise ValueError(f"forbid() needs a full dotted name like torch.autograd.grad: {dotted!r}")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:-1]:
            found = getattr(found, part)
        if not hasattr(found, parts[-1]):
            raise ValueError(f"forbid(): {dotted!r} does not exist")
        return found, parts[-1]
    raise ValueError(f"forbid(): no module to import in {dotted!r}")


def _refusal(name: str) -> Any:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(
            {
                "zh": f"这个练习不允许调用 {name}，请按练习的要求自己实现。",
            }.get(
                language(2),
                f"this exercise does not allow {name}: do it the way the exercise asks",
            )
        )

    refuse.__name__ = refuse.__qualname__ = name.rsplit(".", 1)[-1]
    return refuse
