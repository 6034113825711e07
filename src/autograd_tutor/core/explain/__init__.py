"""Explain autograd errors and warnings in plain language, from a catalogue of data files.

This runs in the UI process, which never imports torch: matching is on text only (the
exception class name, its message and the cell's source). The catalogue lives in
`catalog/<lang>/<id>.yaml`; see `loader.py` for the file format and how authors extend it.

Matching: entries are tried from the highest `priority` down (at equal priority, entries with
a `code_match` first). An entry applies when the exception class name is one of its `type`s,
one of its `match` regexes is found in the message, and, if it has `code_match`, one of
those is found in the cell source and no `code_exclude` is. Every message the catalogue
knows therefore has a base entry without `code_match`; code only picks a tailored variant.

Text fields may say `{name}`: it is replaced by the named group `(?P<name>...)` captured
by `match` or `code_match`, which is how an explanation uses the learner's variable names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from autograd_tutor.core.explain.loader import (
    BUILTIN_DIR,
    PLACEHOLDER,
    CatalogueError,
    Entry,
    load,
)
from autograd_tutor.core.results import Explanation  # the core's result types hold it

__all__ = [
    "BUILTIN_DIR",
    "CatalogueError",
    "Entry",
    "Explanation",
    "catalogue",
    "explain",
    "explain_warning",
]


def catalogue(lang: str = "en", extra_dirs: Sequence[Path | str] = ()) -> list[Entry]:
    """Every entry, in matching order. Raises CatalogueError for a broken file."""
    return list(load(lang, extra_dirs))


def explain(
    exc_type: str,
    message: str,
    *,
    lang: str = "en",
    code: str = "",
    extra_dirs: Sequence[Path | str] = (),
) -> Explanation | None:
    """The explanation of an exception, or None when the catalogue does not know it.

    `exc_type` is the class name (`RuntimeError`; a dotted `torch.OutOfMemoryError` works
    too), `message` is `str(exception)`, `code` the source of the cell that raised it.
    Raises CatalogueError when an author's catalogue file is broken.
    """
    return _find("error", exc_type, message, lang, code, extra_dirs)


def explain_warning(
    category: str,
    message: str,
    *,
    lang: str = "en",
    code: str = "",
    extra_dirs: Sequence[Path | str] = (),
) -> Explanation | None:
    """The explanation of a warning (`category` is e.g. `UserWarning`), or None."""
    return _find("warning", category, message, lang, code, extra_dirs)


def _type_matches(types: tuple[str, ...], name: str) -> bool:
    # Tracebacks may give `builtins.RuntimeError` or `torch.OutOfMemoryError`.
    short = name.rsplit(".", 1)[-1]
    return "*" in types or name in types or short in types


# torch's messages are short; a huge message (an assertion printing a big tensor) is cut so
# that matching stays fast whatever regexes an author wrote.
_MAX_MESSAGE = 4_000
_MAX_CODE = 20_000


def _find(
    kind: str,
    type_name: str,
    message: str,
    lang: str,
    code: str,
    extra_dirs: Sequence[Path | str],
) -> Explanation | None:
    message, code = message[:_MAX_MESSAGE], code[:_MAX_CODE]
    for entry in load(lang, extra_dirs):
        if entry.kind != kind or not _type_matches(entry.types, type_name):
            continue
        found = next((m for p in entry.match if (m := p.search(message))), None)
        if found is None:
            continue
        groups = {k: v for k, v in found.groupdict().items() if v is not None}
        if entry.code_match:
            in_code = next((m for p in entry.code_match if (m := p.search(code))), None)
            if in_code is None or any(p.search(code) for p in entry.code_exclude):
                continue
            groups.update({k: v for k, v in in_code.groupdict().items() if v is not None})
        return _render(entry, groups)
    return None


def _fill(text: str, groups: Mapping[str, str]) -> str:
    # Only known group names are replaced, so other braces (dicts, f-strings) stay as written.
    return PLACEHOLDER.sub(lambda m: groups.get(m.group(1), m.group(0)), text)


def _render(entry: Entry, groups: Mapping[str, str]) -> Explanation:
    return Explanation(
        id=entry.id,
        title=_fill(entry.title, groups),
        what=_fill(entry.what, groups),
        why=_fill(entry.why, groups),
        fix=_fill(entry.fix, groups),
        snippet=_fill(entry.snippet, groups),
        lesson=entry.lesson,
    )
