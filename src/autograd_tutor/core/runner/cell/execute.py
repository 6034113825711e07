"""Execute one cell in the cell process, the way a notebook does, and describe the outcome.

The cell is compiled under the lesson's file name with its code shifted to its line in the
lesson, so tracebacks, warnings and syntax errors point at lesson lines without any
rewriting afterwards.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from types import CodeType, TracebackType
from typing import Any

from autograd_tutor.core.runner.cell import history
from autograd_tutor.core.runner.cell.magics import Shell, has_ipython_syntax, transform

MAX_REPR = 10_000
MAX_WARNINGS = 20
MEMORY_HINTS = ("can't allocate memory", "DefaultCPUAllocator", "out of memory")


def _no_input(prompt: object = "") -> str:
    raise RuntimeError(
        "input() is not available here: a lesson cell cannot read from the keyboard. "
        "Assign the value in the code instead."
    )


class CellRunner:
    """One session's namespace and the cells run in it."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        # What IPython's transformer writes for magics and `!cmd` calls (magics.py).
        shell = Shell(self.namespace, self._compiled_call)
        self.namespace["get_ipython"] = lambda: shell
        builtins.input = _no_input
        # Lesson lines already run, per file, so tracebacks can show every cell's source.
        self._lines: dict[str, dict[int, str]] = {}
        # The session's warning filters, kept between cells (None until the first cell).
        self._filters: list[Any] | None = None

    def run(self, code: str, filename: str = "<cell>", line: int = 1) -> dict[str, Any]:
        started = time.perf_counter()
        self._remember_source(code, filename, line)
        history.record(code, filename, line)  # for a check's learner_code() (check.py)
        outcome: dict[str, Any] = {"status": "ok", "value": None, "error": None, "warnings": []}
        # As IPython does before each cell: a warning shown by an earlier cell shows again.
        self.namespace.pop("__warningregistry__", None)
        if self._filters is None:
            # The process's filters before the first cell: Python's defaults, any -W options,
            # and what the libraries imported so far added (torch and numpy add a few).
            self._filters = list(warnings.filters)
        grad_mode = _grad_mode()
        collector = WarningCollector(filename)
        default_action = warnings.defaultaction
        with warnings.catch_warnings():
            try:
                back = _install_counting(self._filters)
                warnings.showwarning = collector.show
                self._execute(code, filename, line, outcome, grad_mode)
                # Filters the cell set stay for the next cells, as in Python and Jupyter.
                self._filters = _session_filters(back, self._filters)
            finally:
                warnings.defaultaction = default_action
        outcome["warnings"] = collector.entries()
        if collector.hidden:
            outcome["warnings_hidden"] = collector.hidden
        outcome["seconds"] = round(time.perf_counter() - started, 6)
        return outcome

    def _execute(
        self, code: str, filename: str, line: int, outcome: dict[str, Any], grad_mode: bool
    ) -> None:
        try:
            body, last = self._compile(code, filename, line)
            exec(body, self.namespace)
            if last is not None:
                value = eval(last, self.namespace)
                if value is not None:
                    self.namespace["_"] = value
                    outcome["value"] = _short_repr(value)
        except BaseException as exc:  # noqa: BLE001 - the learner's code may raise anything
            if isinstance(exc, KeyboardInterrupt):
                # An interrupt can land inside `with torch.no_grad():` after recording
                # was switched off and before the block's exit could switch it back.
                _restore_grad_mode(grad_mode)
            outcome["status"] = _status_of(exc)
            _edited_syntax_line(exc, code, filename, line)
            outcome["error"] = describe_error(exc, filename)

    def _compiled_call(self, code: str, filename: str, line: int) -> Callable[[], Any]:
        body, last = self._compile(code, filename, line)

        def call() -> Any:
            exec(body, self.namespace)
            return eval(last, self.namespace) if last is not None else None

        return call

    def _compile(self, code: str, filename: str, line: int) -> tuple[CodeType, CodeType | None]:
        if has_ipython_syntax(code):
            # One line for one line: the lesson lines below stay those of the cell.
            code = transform(code)
        # Blank lines in front put every statement on its lesson line.
        tree = ast.parse("\n" * (line - 1) + code, filename, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            expr = ast.Expression(tree.body.pop().value)
            last = compile(expr, filename, "eval")
        return compile(tree, filename, "exec"), last

    def _remember_source(self, code: str, filename: str, line: int) -> None:
        lines = self._lines.setdefault(filename, {})
        for offset, text in enumerate(code.splitlines()):
            lines[line + offset] = text + "\n"
        count = max(lines)
        full = [lines.get(n, "\n") for n in range(1, count + 1)]
        # mtime None: linecache.checkcache keeps this entry instead of rereading the file.
        linecache.cache[filename] = (sum(map(len, full)), None, full, filename)


def _edited_syntax_line(exc: BaseException, code: str, filename: str, line: int) -> None:
    """CPython fills a SyntaxError's `text` from the file on disk, which is the lesson's
    code, not the learner's edit that ran: put the line that ran back."""
    if isinstance(exc, SyntaxError) and exc.filename == filename and exc.lineno:
        lines = code.splitlines()
        if 0 <= exc.lineno - line < len(lines):
            exc.text = lines[exc.lineno - line] + "\n"


def _grad_mode() -> bool:
    torch = sys.modules.get("torch")
    return bool(torch.is_grad_enabled()) if torch is not None else True


def _restore_grad_mode(mode: bool) -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_grad_enabled(mode)


def _short_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ is the learner's
        text = f"<repr failed: {type(exc).__name__}: {exc}>"
    return text if len(text) <= MAX_REPR else text[:MAX_REPR] + "…"


def _status_of(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, RuntimeError) and any(h in str(exc) for h in MEMORY_HINTS):
        return "memory"
    return "error"


def describe_error(exc: BaseException, filename: str) -> dict[str, Any]:
    """Type, message, the innermost lesson line, and a traceback of the learner's frames only."""
    frames = [f for f in traceback.extract_tb(_tb(exc)) if f.filename == filename]
    line = frames[-1].lineno if frames else None
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = (
            f"sys.exit({exc.code!r}) was called. In a lesson it ends nothing: "
            "the session and its variables are still there."
        )
    elif isinstance(exc, KeyboardInterrupt):
        message = "interrupted"
    text = "".join(traceback.format_list(frames)) if frames else ""
    text = ("Traceback (most recent call last):\n" + text if text else "") + "".join(
        traceback.format_exception_only(type(exc), exc)
    )
    return {
        "type": type(exc).__name__,
        "message": message,
        "line": line,
        "traceback": text,
        "explanation": None,
    }


def _tb(exc: BaseException) -> TracebackType | None:
    tb = exc.__traceback__
    # Skip our own frames (exec/eval in this module) at the top of the traceback.
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return tb


class WarningCollector:
    """The cell's `warnings.showwarning`: one entry per distinct warning, repeats counted.

    An entry is `{category, message, line}` (`line`: the lesson line the warning points
    at, None when it points into a library), plus `count` when it was seen more than once.
    At most MAX_WARNINGS entries; `hidden` counts the warnings of any further ones.
    """

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self._entries: dict[tuple[str, str, int | None], dict[str, Any]] = {}
        self.hidden = 0

    def show(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: object = None,
        line: str | None = None,
    ) -> None:
        # Called from inside the learner's warnings.warn(): it must never raise.
        try:
            text = str(message)
        except Exception as exc:  # noqa: BLE001 - a broken __str__ is the learner's
            text = f"<str failed: {type(exc).__name__}>"
        name = getattr(category, "__name__", str(category))
        where = lineno if filename == self.filename else None
        key = (name, text, where)
        entry = self._entries.get(key)
        if entry is not None:
            entry["count"] = entry.get("count", 1) + 1
        elif len(self._entries) < MAX_WARNINGS:
            self._entries[key] = {"category": name, "message": text, "line": where}
        else:
            self.hidden += 1

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries.values())


_Filter = tuple[Any, ...]


def _install_counting(session: list[_Filter]) -> dict[int, tuple[_Filter, _Filter]]:
    """Install the session's filters, each "default" made "always" (the default action
    too, until the cell ends); return the swaps.

    "default" shows a warning the first time it comes from a place and drops the repeats.
    With "always" the repeats reach the collector too, which shows the warning once with
    its count. What a filter hides ("ignore"), or raises ("error"), is left as it is.
    """
    back: dict[int, tuple[_Filter, _Filter]] = {}
    active: list[_Filter] = []
    for item in session:
        if item[0] == "default":
            swapped = ("always", *item[1:])
            back[id(swapped)] = (swapped, item)  # holds `swapped`, so its id stays its own
            item = swapped
        active.append(item)
    warnings.filters[:] = active
    if warnings.defaultaction == "default":  # for warnings no filter matches, UserWarning too
        warnings.defaultaction = "always"
    mutated = getattr(warnings, "_filters_mutated", None)
    if mutated is not None:
        mutated()  # as filterwarnings() does: registries made under other filters are stale
    return back


def _session_filters(
    back: dict[int, tuple[_Filter, _Filter]], before: list[_Filter]
) -> list[_Filter]:
    """The filters as the cell left them, with the swapped ones turned back."""
    try:
        now = list(warnings.filters)
    except TypeError:  # the cell put something odd in warnings.filters
        return before
    turned = []
    for item in now:
        swap = back.get(id(item))
        turned.append(swap[1] if swap is not None and swap[0] is item else item)
    return turned


def flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
