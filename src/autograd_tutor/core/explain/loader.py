"""Load the error catalogue: one YAML file per entry, validated, with `PATH:LINE` errors.

The catalogue is data so that lesson authors can add entries without touching Python. A
broken file is an author's mistake, so every problem is raised as `CatalogueError(path,
line, message)` pointing at the offending field, never as a bare YAML or regex traceback.

Layout (`<dir>` is the shipped `catalog/` folder or an author's extra folder):

    <dir>/en/leaf-inplace.yaml      the file name (without .yaml) is the entry id
    <dir>/zh/leaf-inplace.yaml      the same entry in Simplified Chinese

An extra folder may also be a single-language folder named after its language
(`errors/en`, whose siblings `errors/zh` hold the translations), or a plain folder of YAML
files, which are then English. For any language other than English, entries missing in that
language fall back to English so the learner still gets an explanation, and a translation
takes every field it does not set from the English file of the same id: a translation
usually holds only `id` and the texts, and matches exactly what the English entry matches.

Fields: `id` (= file name), `type` (exception class name or list; `*` for any), `match`
(regex or list, searched in the message), optional `code_match` / `code_exclude` (regex or
list, searched in the cell source, multiline), `priority` (int, default 0), `kind`
(`error`/`warning`), `title`, `what`, `why`, `fix`, `snippet`, `lesson` (a lesson id), and
`extends` (a base entry id: a variant takes every field it does not set from its base).
A later folder's entry replaces an earlier one with the same id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

BUILTIN_DIR = Path(__file__).resolve().parent / "catalog"
FALLBACK_LANG = "en"
KINDS = ("error", "warning")
PROSE_FIELDS = ("title", "what", "why", "fix")
TEXT_FIELDS = (*PROSE_FIELDS, "snippet")
REQUIRED = ("id", "type", "match", *TEXT_FIELDS)
KNOWN_FIELDS = frozenset(
    {*REQUIRED, "code_match", "code_exclude", "priority", "kind", "lesson", "extends"}
)
# Fields a variant does not take from the entry it extends.
NOT_INHERITED = frozenset({"id", "extends"})

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


class CatalogueError(Exception):
    """A catalogue file is broken; `str()` is `PATH:LINE: message`."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


@dataclass(frozen=True)
class Entry:
    """One validated catalogue entry, regexes compiled."""

    id: str
    types: tuple[str, ...]
    match: tuple[re.Pattern[str], ...]
    code_match: tuple[re.Pattern[str], ...]
    code_exclude: tuple[re.Pattern[str], ...]
    priority: int
    kind: str
    title: str
    what: str
    why: str
    fix: str
    snippet: str
    lesson: str | None
    extends: str | None
    lang: str
    path: Path
    line: int


@dataclass(frozen=True)
class _Field:
    value: Any
    path: Path
    line: int  # 1-based line of the value
    end_line: int  # last line of the value (block scalars span several)
    item_lines: tuple[int, ...] = ()  # lines of list items, for regex errors

    def line_of(self, needle: str) -> int:
        """The line inside this value where `needle` is written, else the value's line."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return self.line
        for number in range(self.line, min(self.end_line, len(lines)) + 1):
            if needle in lines[number - 1]:
                return number
        return self.line


@dataclass(frozen=True)
class _RawEntry:
    id: str
    path: Path
    lang: str
    fields: dict[str, _Field]


# ---------------------------------------------------------------------------- parsing


def _parse_file(path: Path, lang: str) -> _RawEntry:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError(path, 1, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise CatalogueError(path, 1, f"cannot read: {exc.strerror}") from None
    try:
        # compose keeps line numbers; safe_load builds the values.
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise CatalogueError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(path, 1, f"invalid YAML: {exc}") from None
    if node is None:
        raise CatalogueError(path, 1, "empty file: an entry needs id, type, match, title, ...")
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        raise CatalogueError(
            path, node.start_mark.line + 1, "an entry must be a mapping of fields (id: ..., ...)"
        )
    fields: dict[str, _Field] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(key, str):
            raise CatalogueError(path, line, "field names must be plain words")
        if key in fields:
            raise CatalogueError(path, line, f"field '{key}' is given twice")
        if key not in KNOWN_FIELDS:
            known = ", ".join(sorted(KNOWN_FIELDS))
            raise CatalogueError(path, line, f"unknown field '{key}' (known fields: {known})")
        items: tuple[int, ...] = ()
        if isinstance(value_node, yaml.SequenceNode):
            items = tuple(item.start_mark.line + 1 for item in value_node.value)
        fields[key] = _Field(
            data[key],
            path,
            value_node.start_mark.line + 1,
            value_node.end_mark.line + 1,
            items,
        )
    stem = path.name.rsplit(".", 1)[0]
    if "id" not in fields:
        raise CatalogueError(path, 1, f"missing field 'id' (it must be the file name: {stem})")
    entry_id = fields["id"].value
    if not isinstance(entry_id, str) or not _SLUG.match(entry_id):
        raise CatalogueError(
            path, fields["id"].line, "id must be lowercase words joined by '-', e.g. leaf-inplace"
        )
    if entry_id != stem:
        # One id per file name keeps en/zh pairs obvious and rules out duplicate ids.
        raise CatalogueError(
            path, fields["id"].line, f"id '{entry_id}' must match the file name '{stem}'"
        )
    return _RawEntry(entry_id, path, lang, fields)


_file_cache: dict[tuple[Path, str], tuple[tuple[int, int], _RawEntry]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_mtime_ns, st.st_size)


def _load_file(path: Path, lang: str) -> _RawEntry:
    """Parse one file, reusing the last parse while the file is unchanged."""
    try:
        stamp = _stamp(path)
    except OSError as exc:
        raise CatalogueError(path, 1, f"cannot read: {exc.strerror}") from None
    cached = _file_cache.get((path, lang))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    raw = _parse_file(path, lang)
    _file_cache[(path, lang)] = (stamp, raw)
    return raw


# ------------------------------------------------------------------------ validation


def _strings(field: _Field, name: str) -> tuple[str, ...]:
    value = field.value
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise CatalogueError(
            field.path, field.line, f"'{name}' must be a non-empty string or a list of them"
        )
    return tuple(values)


def _regexes(field: _Field, name: str, flags: int) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for i, pattern in enumerate(_strings(field, name)):
        try:
            compiled.append(re.compile(pattern, flags))
        except re.error as exc:
            line = field.item_lines[i] if i < len(field.item_lines) else field.line
            raise CatalogueError(
                field.path, line, f"'{name}' is not a valid regular expression: {exc}"
            ) from None
    return tuple(compiled)


def _build(raw: _RawEntry, fields: dict[str, _Field]) -> Entry:
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise CatalogueError(raw.path, 1, f"missing field{plural}: {', '.join(missing)}")
    texts: dict[str, str] = {}
    for name in TEXT_FIELDS:
        f = fields[name]
        if not isinstance(f.value, str):
            raise CatalogueError(f.path, f.line, f"'{name}' must be text")
        texts[name] = f.value.strip("\n") if name == "snippet" else f.value.strip()
        if name != "snippet" and not texts[name]:
            raise CatalogueError(f.path, f.line, f"'{name}' must not be empty")
    if "\n" in texts["title"]:
        raise CatalogueError(fields["title"].path, fields["title"].line, "title must be one line")

    match = _regexes(fields["match"], "match", 0)
    # MULTILINE so that `^` in a code pattern means "at the start of a line of the cell".
    code_match = (
        _regexes(fields["code_match"], "code_match", re.M) if "code_match" in fields else ()
    )
    code_exclude = (
        _regexes(fields["code_exclude"], "code_exclude", re.M) if "code_exclude" in fields else ()
    )

    priority = fields["priority"].value if "priority" in fields else 0
    if not isinstance(priority, int) or isinstance(priority, bool):
        f = fields["priority"]
        raise CatalogueError(f.path, f.line, "'priority' must be a whole number")
    kind = fields["kind"].value if "kind" in fields else "error"
    if kind not in KINDS:
        f = fields["kind"]
        raise CatalogueError(f.path, f.line, f"'kind' must be one of: {', '.join(KINDS)}")
    lesson = fields["lesson"].value if "lesson" in fields else None
    if lesson is not None and (not isinstance(lesson, str) or not _SLUG.match(lesson)):
        f = fields["lesson"]
        raise CatalogueError(f.path, f.line, "'lesson' must be a lesson id such as inplace")

    # Placeholders in prose must be filled whenever the entry applies: the group must exist
    # in every `match` pattern or in every `code_match` pattern. Snippets are code and may
    # hold literal braces, so they are only substituted, never checked.
    always = set.intersection(*(set(p.groupindex) for p in match))
    if code_match:
        always |= set.intersection(*(set(p.groupindex) for p in code_match))
    for name in PROSE_FIELDS:
        for placeholder in PLACEHOLDER.findall(texts[name]):
            if placeholder not in always:
                f = fields[name]
                raise CatalogueError(
                    f.path,
                    f.line_of(f"{{{placeholder}}}"),
                    f"{{{placeholder}}} in '{name}' is not a named group (?P<{placeholder}>...) "
                    "of every 'match' pattern or of every 'code_match' pattern",
                )
    extends = fields["extends"].value if "extends" in raw.fields else None
    return Entry(
        id=raw.id,
        types=_strings(fields["type"], "type"),
        match=match,
        code_match=code_match,
        code_exclude=code_exclude,
        priority=priority,
        kind=kind,
        lesson=lesson,
        extends=extends,
        lang=raw.lang,
        path=raw.path,
        line=fields["id"].line,
        **texts,
    )


def _resolve(raws: dict[str, _RawEntry]) -> list[Entry]:
    """Apply `extends` (a variant takes every field it does not set from its base)."""
    resolved: dict[str, dict[str, _Field]] = {}

    def fields_of(entry_id: str, chain: tuple[str, ...]) -> dict[str, _Field]:
        if entry_id in resolved:
            return resolved[entry_id]
        raw = raws[entry_id]
        fields = dict(raw.fields)
        if "extends" in raw.fields:
            ext = raw.fields["extends"]
            if not isinstance(ext.value, str) or ext.value not in raws:
                raise CatalogueError(ext.path, ext.line, f"extends unknown entry '{ext.value}'")
            if ext.value in chain:
                loop = " -> ".join((*chain, ext.value))
                raise CatalogueError(ext.path, ext.line, f"extends loops: {loop}")
            base = fields_of(ext.value, (*chain, ext.value))
            fields = {k: v for k, v in base.items() if k not in NOT_INHERITED} | fields
        resolved[entry_id] = fields
        return fields

    return [_build(raw, fields_of(entry_id, (entry_id,))) for entry_id, raw in raws.items()]


# --------------------------------------------------------------------------- folders


def _lang_dir(base: Path, lang: str) -> Path | None:
    """The folder under `base` that holds `lang` entries, or None."""
    if (base / lang).is_dir():
        return base / lang
    if base.name in {lang, FALLBACK_LANG} or (BUILTIN_DIR / base.name).is_dir():
        # `errors/en` given: its language is its name, translations are its siblings.
        # (Only known language names count, so that a folder called `src` stays English.)
        if base.name == lang:
            return base
        sibling = base.parent / lang
        return sibling if sibling.is_dir() else None
    return base if lang == FALLBACK_LANG and base.is_dir() else None


def _files(folders: Iterable[Path | None]) -> tuple[Path, ...]:
    found: list[Path] = []
    for folder in folders:
        if folder is not None and folder.is_dir():
            found.extend(sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")))
    return tuple(found)


def _load_lang(lang: str, bases: Sequence[Path]) -> dict[str, _RawEntry]:
    """Entries of one language; a later folder's entry replaces an earlier one's same id."""
    raws: dict[str, _RawEntry] = {}
    for path in _files(_lang_dir(base, lang) for base in bases):
        raw = _load_file(path, lang)
        raws[raw.id] = raw
    return raws


@lru_cache(maxsize=16)
def _assemble(lang: str, bases: tuple[Path, ...], _stamps: tuple[Any, ...]) -> tuple[Entry, ...]:
    # `_stamps` is only part of the cache key: a changed file makes a new key.
    raws = _load_lang(lang, bases)
    if lang != FALLBACK_LANG:
        english = _load_lang(FALLBACK_LANG, bases)
        for entry_id, raw in raws.items():
            if entry_id in english:
                # A translation takes what it does not set (type, match, ...) from the
                # English file, so matching cannot drift apart between languages.
                fields = english[entry_id].fields | raw.fields
                raws[entry_id] = _RawEntry(entry_id, raw.path, lang, fields)
        for entry_id, raw in english.items():
            raws.setdefault(entry_id, raw)
    entries = _resolve(raws)
    # Most specific first: higher priority, then variants tailored by code, then by id.
    entries.sort(key=lambda e: (-e.priority, not e.code_match, e.id))
    return tuple(entries)


def normalize_lang(lang: str) -> str:
    """`zh-CN`, `zh_Hans` -> `zh` when only `zh` is shipped; unknown languages stay."""
    lang = (lang or FALLBACK_LANG).strip()
    if (BUILTIN_DIR / lang).is_dir():
        return lang
    short = re.split(r"[-_]", lang, maxsplit=1)[0].lower()
    return short if (BUILTIN_DIR / short).is_dir() else lang


def load(lang: str = FALLBACK_LANG, extra_dirs: Sequence[Path | str] = ()) -> tuple[Entry, ...]:
    """All entries for `lang`, sorted in matching order. Raises CatalogueError."""
    lang = normalize_lang(lang)
    bases = (BUILTIN_DIR, *(Path(d).expanduser().resolve() for d in extra_dirs))
    langs = (lang,) if lang == FALLBACK_LANG else (lang, FALLBACK_LANG)
    files = _files(_lang_dir(b, code) for code in langs for b in bases)
    try:
        stamps = tuple((p, _stamp(p)) for p in files)
    except OSError:
        stamps = (object(),)  # a file vanished while listing: do not reuse a cached result
    return _assemble(lang, bases, stamps)
