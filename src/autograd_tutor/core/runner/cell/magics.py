"""IPython syntax in cells: magics, shell escapes and `obj?`, as tutorials people already
have use them.

IPython's own input transformer (the one Jupyter runs) turns the syntax into Python calls
on `get_ipython()`, one line for one line, so the lesson lines of a traceback stay right.
`Shell` is that `get_ipython()`: it runs the magics that make sense here, and says why the
others cannot run. IPython is imported by the warm host (it preloads this module), so no
cell pays for it; and only a cell that looks like it holds IPython syntax is transformed.
"""

from __future__ import annotations

import inspect
import math
import sys
import time
from collections.abc import Callable
from typing import Any

SHELL_MESSAGE = "shell commands do not run in the tutor's sandbox"
# Magics that start a process or install packages: the sandbox has no network and no
# programs to run, and installing into the tutor's environment is not a cell's business.
# IPython's shell aliases (%ls, %cd, ...) and its script cell magics (%%bash, ...) too.
_SHELL = "pip conda mamba micromamba uv sx system sh bash script perl ruby python python2"
_SHELL += " python3 pypy ls ll lf lk lx cd cat cp mv rm rmdir mkdir env set_env alias unalias"
SHELL_MAGICS = frozenset(_SHELL.split())
KNOWN = "%matplotlib, %time, %timeit, %%time, %%timeit and obj?"
_ASSIGNED = ("=!", "= !", "=%", "= %")

_manager: Any = None  # IPython's TransformerManager, made on the first cell that needs it

# Compiles `code` under lesson lines (file, first line) into a call that runs it in the
# session's namespace and answers its last expression's value: compiled once, so %timeit
# times the statement, not the compiler.
CompileCode = Callable[[str, str, int], Callable[[], Any]]


class ShellCommandError(RuntimeError):
    """A shell escape (`!cmd`, `%pip`, ...) in a cell: never run in the sandbox."""


class UsageError(Exception):
    """A magic the tutor does not have (IPython's name for the same error)."""


def has_ipython_syntax(code: str) -> bool:
    """A cheap look before the transformer (~0.1 ms against its ~1 ms): a line that starts
    with `%`, `!` or `?`, ends with `?`, or assigns a magic. A false alarm costs one
    transform that changes nothing."""
    if "%" not in code and "!" not in code and "?" not in code:
        return False
    for line in code.splitlines():
        text = line.strip()
        if text[:1] in ("%", "!", "?") or text.endswith("?"):
            return True
        if any(mark in text for mark in _ASSIGNED):
            return True
    return False


def transform(code: str) -> str:
    """The cell as plain Python (IPython's transformer), or itself when it has no IPython
    syntax or cannot be tokenized (then compiling it gives the learner the SyntaxError)."""
    global _manager
    if _manager is None:
        from IPython.core.inputtransformer2 import TransformerManager  # warmed: warmup.py

        _manager = TransformerManager()
    try:
        out = _manager.transform_cell(code)
    except Exception:  # noqa: BLE001 - e.g. an unterminated string: Python's error says it best
        return code
    return code if out.rstrip("\n") == code.rstrip("\n") else out


def _caller_line() -> tuple[str, int]:
    """The lesson file and line of the cell's call to a magic (two frames up)."""
    frame = sys._getframe(2)
    return frame.f_code.co_filename, frame.f_lineno


class Shell:
    """The cells' `get_ipython()`: the calls IPython's transformer writes."""

    def __init__(self, namespace: dict[str, Any], compile_code: CompileCode) -> None:
        self.namespace = namespace
        self.compile_code = compile_code
        self.user_ns = namespace  # what code written for IPython looks up

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> Any:
        filename, lineno = _caller_line()
        if name == "matplotlib":
            return None  # plots are captured whatever the backend asked for
        if name == "time":
            return _time(self.compile_code(line, filename, lineno))
        if name == "timeit":
            options, statement = timeit_options(line)
            return _timeit(self.compile_code(statement, filename, lineno), **options)
        if name in ("pinfo", "pinfo2"):
            return self._pinfo(line, filename, lineno, full=name == "pinfo2")
        return self._other(name, line)

    def run_cell_magic(self, name: str, line: str, cell: str) -> Any:
        filename, lineno = _caller_line()
        body = transform(cell) if has_ipython_syntax(cell) else cell
        if name == "time":
            return _time(self.compile_code(body, filename, lineno + 1))
        if name == "timeit":
            options, _ = timeit_options(line)
            return _timeit(self.compile_code(body, filename, lineno + 1), **options)
        return self._other(name, line, cell=True)

    def system(self, cmd: str) -> None:
        raise ShellCommandError(f"{SHELL_MESSAGE}: !{cmd}")

    def getoutput(self, cmd: str, split: bool = True, depth: int = 0) -> None:
        raise ShellCommandError(f"{SHELL_MESSAGE}: !{cmd}")

    def _other(self, name: str, line: str, cell: bool = False) -> None:
        shown = f"{'%%' if cell else '%'}{name}"
        if name in SHELL_MAGICS:
            raise ShellCommandError(f"{SHELL_MESSAGE}: {shown} {line}".rstrip())
        raise UsageError(f"unknown magic {shown}: the tutor runs {KNOWN}")

    def _pinfo(self, expr: str, filename: str, lineno: int, full: bool) -> None:
        obj = self.compile_code(expr.strip(), filename, lineno)()
        print(describe(obj, expr.strip(), full))


def describe(obj: object, name: str, full: bool = False) -> str:
    """What `obj?` shows in IPython: signature, type, docstring (`obj??`: the source too)."""
    parts = []
    try:
        parts.append(f"Signature: {name}{inspect.signature(obj)}")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pass
    parts.append(f"Type:      {type(obj).__name__}")
    if not callable(obj) and not inspect.ismodule(obj):
        text = repr(obj)
        parts.append(f"Value:     {text if len(text) < 200 else text[:200] + '…'}")
    doc = inspect.getdoc(obj)
    parts.append("Docstring:\n" + doc if doc else "Docstring: <no docstring>")
    if full:
        try:
            parts.append("Source:\n" + inspect.getsource(obj))  # type: ignore[arg-type]
        except (OSError, TypeError):
            pass
    return "\n".join(parts)


def _time(run: Callable[[], Any]) -> Any:
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        return run()
    finally:
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"CPU times: total: {_span(cpu)}\nWall time: {_span(wall)}")


def timeit_options(line: str) -> tuple[dict[str, int], str]:
    """`-n N` (loops) and `-r R` (runs) of `%timeit -n 10 -r 3 stmt`; others (-q, -o, -p)
    are taken and ignored. Answers the options and the statement."""
    words = line.split()
    options: dict[str, int] = {}
    while words and words[0].startswith("-") and len(words[0]) > 1 and words[0][1].isalpha():
        flag, value = words[0][1], words[0][2:]
        words.pop(0)
        if flag in "nrp" and not value and words:
            value = words.pop(0)
        if flag in "nr" and value.isdigit() and int(value) > 0:
            options["number" if flag == "n" else "repeat"] = int(value)
    return options, " ".join(words) if options or words != line.split() else line


def _timeit(run: Callable[[], Any], repeat: int = 7, number: int = 0, target: float = 0.02) -> None:
    """IPython's report; without `-n`, loops grow by ten until one run takes `target`
    seconds, so a slow statement is timed few times and the cell stays within its timeout."""
    if number:
        took = _loop(run, number)
    else:
        number = 1
        while True:
            took = _loop(run, number)
            if took >= target or number >= 10**6:
                break
            number *= 10
    times = [took / number] + [_loop(run, number) / number for _ in range(repeat - 1)]
    mean = sum(times) / len(times)
    std = math.sqrt(sum((t - mean) ** 2 for t in times) / len(times))
    loops = f"{number} loop{'s' * (number != 1)} each"
    print(f"{_span(mean)} ± {_span(std)} per loop (mean ± std. dev. of {repeat} runs, {loops})")


def _loop(run: Callable[[], Any], number: int) -> float:
    started = time.perf_counter()
    for _ in range(number):
        run()
    return time.perf_counter() - started


def _span(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e3), ("µs", 1e6)):
        if seconds >= 1 / scale:
            return f"{seconds * scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"
