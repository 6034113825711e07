"""Which tensor a cell is about: the graph key's choice, from the cell's source (no torch).

`cell_target` reads the last statement: `loss = z.sum()` names `loss`, `y.backward()`
names `y`. `error_target` reads the line an error came from: `y.backward()` → `y`, and
for an in-place error ("... which is output 0 of Exp ...") also the operation
whose saved result was changed. Both only pick names the inspector knows as tensors (when
it knows any), so `print(loss)` names `loss`, not `print`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from autograd_tutor.core.results import CellError

# "... which is output 0 of ExpBackward0, ..." (newer torch says "output 0 of Exp").
_OUTPUT_OF = re.compile(r"output \d+ of (\w+)")
# The errors that are about the code, not a tensor: their "variable" would mislead.
_NOT_A_TENSOR = {"KeyboardInterrupt", "NameError", "SyntaxError", "IndentationError"}


@dataclass(frozen=True)
class ErrorTarget:
    name: str  # the variable the failing line is about
    op: str | None = None  # the operation the message blames (its graph node), if any


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    # A lone compound header (`for step in range(3):`, `with torch.no_grad():`).
    try:
        return ast.parse(source.rstrip() + " pass")
    except SyntaxError:
        return None


def _names(node: ast.AST) -> list[str]:
    """Names read or bound under `node`, in source order."""
    found = [n for n in ast.walk(node) if isinstance(n, ast.Name)]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return [n.id for n in found]


def _root(node: ast.AST) -> list[str]:
    """The object a method chain starts from: `loss` in `loss.sum().backward`."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return _names(node)


def _statement_names(stmt: ast.stmt) -> Iterator[str]:
    """A statement's candidate names, best first."""
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            yield from _names(target)
        yield from _names(stmt.value)
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        yield from _names(stmt.target)
        if stmt.value is not None:
            yield from _names(stmt.value)
    elif isinstance(stmt, ast.Expr):
        for call in ast.walk(stmt.value):
            # `y.backward()`, `torch.autograd.grad(loss, ...)`: the tensor it starts from.
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                if call.func.attr == "backward":
                    yield from _root(call.func.value)
                elif call.func.attr == "grad" and call.args:
                    yield from _root(call.args[0])
        yield from _names(stmt.value)
    else:
        # A loop or a block: what its last statements name, then its header.
        for field in ("orelse", "body"):
            for inner in reversed(getattr(stmt, field, None) or []):
                yield from _statement_names(inner)
        for value in ast.iter_child_nodes(stmt):
            if isinstance(value, ast.expr):
                yield from _names(value)


def _first(candidates: Iterator[str], names: Collection[str]) -> str | None:
    for name in candidates:
        if not names or name in names:
            return name
    return None


def cell_target(code: str, names: Collection[str] = ()) -> str | None:
    """The tensor the cell's last statement (or assignment) names; `names`: known tensors."""
    tree = _parse(code)
    if tree is None:
        return None
    for stmt in reversed(tree.body):
        found = _first(_statement_names(stmt), names)
        if found is not None:
            return found
    return None


def error_target(
    error: CellError | None, code: str, first_line: int, names: Collection[str] = ()
) -> ErrorTarget | None:
    """The variable a cell's error came from, read off the line that raised it."""
    if error is None or error.type in _NOT_A_TENSOR or not error.line:
        return None
    lines = code.splitlines()
    index = error.line - first_line
    if not 0 <= index < len(lines):
        return None  # raised in code the cell called, outside the cell's own lines
    tree = _parse(lines[index].strip())
    if tree is None:
        return None
    name = None
    for stmt in tree.body:
        name = _first(_statement_names(stmt), names)
        if name is not None:
            break
    if name is None:
        return None
    blamed = _OUTPUT_OF.search(error.message)
    return ErrorTarget(name, blamed.group(1) if blamed else None)


def highlight_for(graph: dict[str, Any], name: str | None, op: str | None = None) -> str | None:
    """What GraphView should highlight: the blamed operation's node if the graph has it,
    else the variable `name` (GraphView matches names itself)."""
    if op:
        # The message says "Exp" or "ExpBackward0"; the graph's node is "ExpBackward0".
        stem = op.rstrip("0123456789").removesuffix("Backward")
        label = re.compile(re.escape(stem) + r"(Backward\d*)?")
        for node in graph.get("nodes", []):
            if node.get("kind") == "op" and label.fullmatch(str(node.get("label", ""))):
                return str(node.get("id"))
    return name
