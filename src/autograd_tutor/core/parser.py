"""Parse a lesson file (Markdown, with or without YAML front matter) into a `Lesson`.

markdown-it-py gives CommonMark block tokens with line maps, so fences inside lists,
indented code and unclosed blocks are found the way every Markdown renderer finds them;
the front matter plugin gives the YAML block. Errors carry the file line to fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from autograd_tutor.core.explorer import read_setup
from autograd_tutor.core.lesson import (
    Block,
    CodeCell,
    ExplorerSetup,
    Hint,
    Lesson,
    LessonError,
    Prose,
    WrongAnswer,
)
from autograd_tutor.core.predictions import PredictTexts, predictions

LANGUAGES = ("en", "zh")
CELL_LANGS = ("python", "python3", "ipython3", "py")
ROLES = ("exercise", "check", "solution", "wrong")

_md = MarkdownIt("commonmark").use(front_matter_plugin)


def read_text(path: Path) -> str:
    """Read a lesson file as UTF-8, or say where it stops being text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LessonError(path, 1, f"cannot read file: {exc.strerror or exc}") from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise LessonError(path, line, "binary content (NUL byte): a lesson is a Markdown text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LessonError(path, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    return text.removeprefix("\ufeff")


def name_parts(path: Path) -> tuple[int | None, str, str | None]:
    """`01-tensors.en.md` -> (1, "tensors", "en"); `.ipynb` and `.py` lessons alike."""
    stem = path.name
    for suffix in (".md", ".ipynb", ".py"):
        stem = stem.removesuffix(suffix)
    lang = None
    base, dot, suffix = stem.rpartition(".")
    if dot and suffix in LANGUAGES:
        stem, lang = base, suffix
    order = None
    head, sep, rest = stem.partition("-")
    if sep and head.isdigit():
        order, stem = int(head), rest
    return order, stem, lang


def parse_file(path: Path | str) -> Lesson:
    path = Path(path)
    if path.suffix in (".ipynb", ".py"):
        # Lazily: jupytext costs ~0.3 s to import, and most lessons are Markdown.
        from autograd_tutor.core.notebooks import parse_notebook

        return parse_notebook(path)
    return parse_text(read_text(path), path)


def parse_text(text: str, path: Path) -> Lesson:
    if not text.strip():
        raise LessonError(path, 1, "empty file: a lesson needs a title and cells")
    lines = text.splitlines()
    tokens = _md.parse(text)
    meta, body_start, yaml_text = _front_matter(tokens, lines, path)
    texts = PredictTexts()
    wrong: list[WrongAnswer] = []
    blocks = _blocks(tokens, lines, body_start, path, texts, wrong)
    order, slug, lang = name_parts(path)
    title = meta.get("title")
    if title is None and (not body_start or _is_jupytext_header(meta)):
        # A tutorial as people have it: no front matter, or only jupytext's own header.
        title = _first_heading(tokens) or slug.replace("-", " ").replace("_", " ")
    if not isinstance(title, str) or not title.strip():
        where = 2 if body_start else 1
        raise LessonError(path, where, "front matter needs a `title` (a non-empty string)")
    lesson = Lesson(
        path=path,
        title=title.strip(),
        id=str(meta.get("id", slug)),
        lang=str(meta.get("lang", lang or "en")),
        order=_as_order(meta.get("order", order), path),
        summary=str(meta.get("summary", "")),
        meta=meta,
        blocks=blocks,
        explorer=_explorer(meta, yaml_text, path),
        wrong=tuple(wrong),
    )
    _check_exercises(lesson)
    lesson.predictions = predictions(lesson, texts)
    return lesson


def _is_jupytext_header(meta: dict) -> bool:
    """`jupyter:` with `jupytext:` or `kernelspec:` under it: what `jupytext --to md` writes."""
    jupyter = meta.get("jupyter")
    return isinstance(jupyter, dict) and bool({"jupytext", "kernelspec"} & set(jupyter))


def _first_heading(tokens: list[Token]) -> str | None:
    for at, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.level == 0 and at + 1 < len(tokens):
            # The heading as it reads, not its markup: "Intro to `torch.autograd`" (or a
            # converted tutorial's reST ``torch.autograd``) is titled "Intro to torch.autograd".
            inline = tokens[at + 1]
            parts = [c.content for c in inline.children or [] if c.type in _TITLE_TEXT]
            return ("".join(parts) if inline.children else inline.content).strip() or None
    return None


_TITLE_TEXT = ("text", "code_inline", "softbreak", "html_inline")


def _as_order(value: Any, path: Path) -> int | None:
    if value is None or isinstance(value, int):
        return value
    raise LessonError(path, 2, f"`order` must be an integer, not {value!r}")


def _explorer(meta: dict, yaml_text: str, path: Path) -> ExplorerSetup | None:
    if meta.get("explorer") is None:
        return None
    key_lines = _key_lines(yaml_text)  # only now: most lessons have no explorer

    def line_of(*keys: str) -> int:
        return key_lines.get(("explorer", *keys)) or key_lines.get(("explorer",), 2)

    return read_setup(meta["explorer"], path, line_of)


def _key_lines(content: str) -> dict[tuple[str, ...], int]:
    """The file line of each key of the front matter, nested keys too: (`explorer`, `x`)."""
    found: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, at: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                where = (*at, str(key.value))
                found[where] = key.start_mark.line + 2  # the content starts on line 2
                walk(value, where)

    walk(yaml.compose(content, Loader=yaml.SafeLoader), ())
    return found


def _front_matter(tokens: list[Token], lines: list[str], path: Path) -> tuple[dict, int, str]:
    """The YAML mapping at the top, the 0-based line where the body starts, and its text."""
    first = tokens[0] if tokens else None
    if first is None or first.type != "front_matter":
        if lines and lines[0].strip() == "---":
            raise LessonError(path, 1, "front matter is not closed: add a `---` line after it")
        return {}, 0, ""  # optional: the title comes from the first heading or the name
    try:
        meta = yaml.safe_load(first.content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + (mark.line if mark else 0)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LessonError(path, line, f"invalid YAML in front matter: {problem}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        kind = type(meta).__name__
        raise LessonError(path, 2, f"front matter must be a mapping (key: value), not a {kind}")
    assert first.map is not None
    return meta, first.map[1], first.content


def _blocks(
    tokens: list[Token],
    lines: list[str],
    body_start: int,
    path: Path,
    texts: PredictTexts,
    wrong: list[WrongAnswer],
) -> list[Block]:
    """The lesson's blocks; its `wrong=` cells go to `wrong` (they are no cells of it)."""
    blocks: list[Block] = []
    prose_from = body_start
    index = 0
    last_exercise: str | None = None
    for tok in tokens:
        if tok.type != "fence" or tok.level != 0 or tok.map is None:
            continue
        start, end = tok.map
        _check_closed(tok, lines, path)
        lang, attrs = _info(tok.info, path, start + 1)
        if lang == "hint":
            if last_exercise is None:
                raise LessonError(path, start + 1, "a ```hint fence must follow an exercise cell")
            _add_prose(blocks, lines, prose_from, start)
            blocks.append(Hint(tok.content.strip(), start + 1, last_exercise))
            prose_from = end
            continue
        if lang in PredictTexts.FENCES:
            # A prediction's question or explanation: not prose, kept for its cell.
            texts.add(lang, tok.content.strip(), start + 1, index - 1, path)
            _add_prose(blocks, lines, prose_from, start)
            prose_from = end
            continue
        if lang is None:
            continue  # any other fence is part of the prose
        source, first_line, tags, metadata = _cell_parts(tok, lang, attrs, path, start)
        _add_prose(blocks, lines, prose_from, start)
        prose_from = end
        if "wrong" in metadata:
            # Hidden from learners like a solution, but more: never shown, never run but by
            # `check`, so it is kept apart and numbers no cell (docs/authoring.md).
            if tags or "predict" in metadata:
                raise LessonError(path, start + 1, "a wrong cell takes no tags and no prediction")
            wrong.append(WrongAnswer(str(metadata["wrong"]), first_line, source, metadata))
            continue
        cell = CodeCell(index, first_line, source, tags, metadata)
        blocks.append(cell)
        if cell.role == "exercise":
            last_exercise = cell.exercise
        index += 1
    _add_prose(blocks, lines, prose_from, len(lines))
    return blocks


def _add_prose(blocks: list[Block], lines: list[str], start: int, end: int) -> None:
    text = "\n".join(lines[start:end]).strip("\n")
    if text.strip():
        offset = next(i for i in range(start, end) if lines[i].strip())
        blocks.append(Prose(text, offset + 1))


def _check_closed(tok: Token, lines: list[str], path: Path) -> None:
    start, end = tok.map  # type: ignore[misc]
    closing = lines[end - 1].strip() if end - 1 > start else ""
    char = tok.markup[0]
    if not (closing.startswith(tok.markup) and set(closing) == {char}):
        raise LessonError(path, start + 1, f"code fence {tok.markup} is never closed")


def _info(info: str, path: Path, line: int) -> tuple[str | None, dict[str, Any]]:
    """Split a fence's info string into the cell language (None: not a cell) and metadata."""
    word, _, rest = info.strip().partition(" ")
    if word in ("hint", *PredictTexts.FENCES):
        return word, {}
    if word == "{code-cell}":
        lang = rest.strip().split(" ")[0] if rest.strip() else "python"
        return ("myst" if lang in CELL_LANGS else None), {}
    if word not in CELL_LANGS:
        return None, {}
    return word, _jupytext_attrs(rest, path, line)


def _jupytext_attrs(text: str, path: Path, line: int) -> dict[str, Any]:
    """jupytext's cell metadata: `key=value` pairs whose values are JSON."""
    attrs: dict[str, Any] = {}
    decoder = json.JSONDecoder()
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        eq = text.find("=", pos)
        key = text[pos:eq] if eq != -1 else text[pos:]
        if eq == -1 or not key.replace("_", "").replace("-", "").isalnum():
            raise LessonError(
                path, line, f"malformed cell metadata {text[pos:]!r}: expected key=value"
            )
        try:
            value, pos = decoder.raw_decode(text, eq + 1)
        except json.JSONDecodeError:
            raise LessonError(
                path, line, f"malformed cell metadata: the value of `{key}` is not JSON"
            ) from None
        attrs[key] = value
    return attrs


def _cell_parts(
    tok: Token, lang: str, attrs: dict[str, Any], path: Path, start: int
) -> tuple[str, int, tuple[str, ...], dict[str, Any]]:
    """Source, first code line (1-based), tags and metadata of a code cell."""
    body = tok.content.splitlines()
    skip = 0
    if lang == "myst":
        attrs, skip = _myst_options(body, path, start + 2)
    tags = attrs.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise LessonError(path, start + 1, "cell metadata `tags` must be a list of strings")
    for role in ROLES:
        if role in attrs and not (isinstance(attrs[role], str) and attrs[role]):
            raise LessonError(
                path, start + 1, f'`{role}` must name the exercise, e.g. {role}="name"'
            )
    if sum(role in attrs for role in ROLES) > 1:
        raise LessonError(
            path, start + 1, "a cell is one of exercise, check, solution or wrong, not several"
        )
    source = "\n".join(body[skip:])
    return source, start + 2 + skip, tuple(tags), attrs


def _myst_options(body: list[str], path: Path, first: int) -> tuple[dict[str, Any], int]:
    """MyST-NB cell options: `:key: value` lines, or a `---` YAML block, at the top."""
    if body and body[0].strip() == "---":
        try:
            close = body.index("---", 1)
        except ValueError:
            raise LessonError(
                path, first, "code-cell options block `---` is never closed"
            ) from None
        text, skip = "\n".join(body[1:close]), close + 1
    else:
        skip = 0
        while skip < len(body) and body[skip].startswith(":"):
            skip += 1
        text = "\n".join(line[1:] for line in body[:skip])
    try:
        options = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LessonError(
            path, first + (mark.line if mark else 0), "malformed code-cell options (YAML)"
        ) from None
    if not isinstance(options, dict):
        raise LessonError(path, first, "code-cell options must be `:key: value` lines")
    return options, skip


def _check_exercises(lesson: Lesson) -> None:
    cells = lesson.cells
    starters: dict[str, CodeCell] = {}
    for cell in cells:
        if cell.role == "exercise":
            if cell.exercise in starters:
                raise LessonError(
                    lesson.path, cell.line - 1, f"exercise {cell.exercise!r} defined twice"
                )
            starters[str(cell.exercise)] = cell
    for cell in cells:
        if cell.role in ("check", "solution") and cell.exercise not in starters:
            raise LessonError(
                lesson.path, cell.line - 1, f"{cell.role} for unknown exercise {cell.exercise!r}"
            )
    for answer in lesson.wrong:
        fence = answer.line - 1
        starter = starters.get(answer.exercise)
        if starter is None:
            raise LessonError(
                lesson.path, fence, f"wrong answer to unknown exercise {answer.exercise!r}"
            )
        if answer.line < starter.line:
            raise LessonError(
                lesson.path,
                fence,
                f"a wrong answer must come after its exercise {starter.exercise!r}",
            )
    for name, starter in starters.items():
        checks = [c for c in cells if c.role == "check" and c.exercise == name]
        if len(checks) != 1:
            raise LessonError(
                lesson.path, starter.line - 1, f"exercise {name!r} needs exactly one check cell"
            )
        if checks[0].index < starter.index:
            raise LessonError(
                lesson.path, checks[0].line - 1, "a check must come after its exercise"
            )
