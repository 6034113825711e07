"""The layout is the architecture: import rules between layers and processes, read from the
source (every import, the lazy ones inside functions too), and docs/architecture.md's tree
true to the files. Fast: nothing is imported or run."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "autograd_tutor"
RUNNER = "autograd_tutor.core.runner"

# Which runner folders each folder's code may import: a parent forks its children, so it may
# load their code; a child never reaches back, and `shared` reaches nothing but itself.
MAY_IMPORT = {
    "shared": {"shared"},
    "sandbox": {"sandbox", "shared"},
    "cell": {"cell", "shared"},
    "relay": {"relay", "cell", "sandbox", "shared"},
    "host": {"host", "relay", "cell", "shared"},
    "client": {"client", "shared"},
}
# Outside the runner, the worker side uses only pure data helpers of the core.
WORKER_MAY_USE = {"autograd_tutor", "autograd_tutor.core.plotdata"}
WORKER_SIDE = {"shared", "sandbox", "cell", "relay", "host"}
# The client side types a cell's outcome where the protocol ends: `Session.run` answers a
# `CellOutcome` (core/results.py), so no dict of the protocol travels further. results.py is
# pure data (the standard library and core/lesson.py's dataclasses; checked below), so the
# client may use it, and nothing else of the core: lessonrun, the checker and the app import
# the client, never the other way round.
CLIENT_MAY_USE = {"autograd_tutor", "autograd_tutor.core.results"}
PURE_DATA = {"autograd_tutor.core.results", "autograd_tutor.core.lesson"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from pkg import module` imports pkg.module
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules(under: str = "") -> dict[str, Path]:
    base = PACKAGE / under
    return {module_name(p): p for p in sorted(base.rglob("*.py"))}


def runner_part(name: str) -> str | None:
    """The runner folder a module belongs to, else None."""
    if not name.startswith(RUNNER + "."):
        return None
    return name[len(RUNNER) + 1 :].split(".")[0]


def ours(names: set[str]) -> set[str]:
    """Our own modules among imported names (dropping `from x import SomeClass` noise)."""
    known = set(modules())
    return {n for n in names if n in known}


def test_each_process_imports_only_what_the_picture_allows() -> None:
    wrong = []
    for name, path in modules("core/runner").items():
        part = runner_part(name)
        if part is None:
            continue
        for dep in ours(imports_of(path)):
            dep_part = runner_part(dep)
            if dep_part is None:
                if part in WORKER_SIDE and dep not in WORKER_MAY_USE:
                    wrong.append(f"{name} (worker side) imports {dep}")
                elif part == "client" and dep not in CLIENT_MAY_USE:
                    wrong.append(f"{name} (client) imports {dep}")
            elif dep_part not in MAY_IMPORT[part]:
                wrong.append(f"{name} ({part}) imports {dep} ({dep_part})")
    assert not wrong, "\n".join(wrong)


def test_what_the_client_may_use_of_the_core_is_pure_data() -> None:
    """core/results.py and what it imports: the standard library and each other only."""
    known = modules()
    wrong = []
    for name in PURE_DATA:
        for dep in imports_of(known[name]):
            top = dep.split(".")[0]
            if dep in known and dep not in PURE_DATA | {"autograd_tutor", "autograd_tutor.core"}:
                wrong.append(f"{name} imports {dep}")
            elif top != "autograd_tutor" and top not in sys.stdlib_module_names:
                wrong.append(f"{name} imports {dep} (not the standard library)")
    assert not wrong, "\n".join(wrong)


def test_the_core_never_imports_textual_and_the_ui_never_imports_torch() -> None:
    wrong = []
    for name, path in modules().items():
        deps = imports_of(path)
        if name.startswith("autograd_tutor.core") and any(
            d == "textual" or d.startswith("textual.") for d in deps
        ):
            wrong.append(f"{name} imports Textual")
        client_side = name.startswith("autograd_tutor.ui") or runner_part(name) in (None, "client")
        if (
            client_side
            and name != "autograd_tutor.plot"
            and any(d == "torch" or d.startswith("torch.") for d in deps)
        ):
            wrong.append(f"{name} (UI process) imports torch")
    assert not wrong, "\n".join(wrong)


def tree_in_the_docs() -> set[str]:
    """The paths named in docs/architecture.md's tree, relative to src/autograd_tutor."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"```\nsrc/autograd_tutor/\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md lost its tree of src/autograd_tutor/"
    named, stack = set(), []  # stack: (indent, folder)
    for line in block.group(1).splitlines():
        match = re.match(r"( *)(\S+)", line)
        if not match or not re.fullmatch(r"[\w.]+/?", match.group(2)):
            continue  # a description's continuation line
        indent, entry = len(match.group(1)), match.group(2)
        if indent == 0:
            break  # `lessons/`: outside the package
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "/".join([folder for _, folder in stack] + [entry.rstrip("/")])
        if entry.endswith("/"):
            stack.append((indent, entry.rstrip("/")))
        else:
            named.add(path)
    return named


def test_the_architecture_doc_names_every_module_and_no_other() -> None:
    on_disk = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*")
        if p.suffix in (".py", ".tcss") and "__pycache__" not in p.parts
    }
    named = tree_in_the_docs()
    missing = sorted(p for p in on_disk - named if not p.endswith("__init__.py"))
    stale = sorted(named - on_disk)
    assert not missing, f"modules not in docs/architecture.md's tree: {missing}"
    assert not stale, f"docs/architecture.md names modules that do not exist: {stale}"


def test_no_module_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long, long


def runtime_imports_of(path: Path) -> set[str]:
    """Like `imports_of`, but only imports that run: top-level and lazy ones (inside
    functions), not those under `if TYPE_CHECKING:`, which only name a type for the checker
    and cannot make an import-order cycle."""
    names: set[str] = set()

    def type_checking(test: ast.expr) -> bool:
        return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return names


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it began, else None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def walk(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in done and (found := walk(nxt)) is not None:
                return found
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (found := walk(start)) is not None:
            return found
    return None


def test_the_cycle_finder_finds_cycles() -> None:
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"b"}}) == ["b", "c", "b"]


def test_no_import_cycle_inside_the_ui() -> None:
    """The UI's modules import each other one way: the app its screens, a screen its
    widgets, all of them state, keys and render. A cycle (two screens' modules importing
    each other, even lazily inside a function) means a responsibility in the wrong place."""
    ui = modules("ui")
    graph = {
        name: {dep for dep in ours(runtime_imports_of(path)) if dep in ui and dep != name}
        for name, path in ui.items()
    }
    cycle = a_cycle(graph)
    assert cycle is None, "import cycle in ui/: " + " -> ".join(cycle or [])
