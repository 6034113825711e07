"""Chinese style rules for `.zh.md` lessons and the Chinese error catalogue (pure, no I/O
but `load_glossary`).

Three rules, applied to prose only: code fences (but `hint`, `question` and `explain`
fences, which are prose), inline code, verbatim quotes (an italic span with no Chinese in
it: a message as torch prints it), URLs, link targets and `$math$` are masked first.

* **punctuation**: ASCII `, : ; ? ! ( ) "` and a sentence-ending `.` next to Chinese text
  must be full width (`，：；？！（）“”。`), and so must `,` and `;` right next to inline
  code in a Chinese line (`` `a`, `b` ``), and a bracket whose other half is full width
  (`（…)`).
* **glossary**: a variant the glossary rejects (`截断`) where the glossary's term (`分离`)
  is wanted. The glossary's own terms and their accepted synonyms (`叶子张量` beside
  `叶子节点`) are masked first, so `叶子` is rejected as a word but not inside `叶子节点`.
* **gloss**: an English message quoted verbatim in Chinese prose is followed by a Chinese
  gloss in full-width parentheses: `*grad can be implicitly created ...*（只有标量……）`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

FULL_WIDTH = {
    ",": "，",
    ":": "：",
    ";": "；",
    "?": "？",
    "!": "！",
    "(": "（",
    ")": "）",
    ".": "。",
}
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2014\u2026“”]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
MASK = "\ue000"  # stands in for masked code, URLs, math: neither Chinese nor a space
QUOTE = "\ue001"  # stands in for a verbatim quote

_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_URL = re.compile(r"<?https?://[^\s)>]+>?")
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)")
_MATH = re.compile(r"\$[^$\n]+\$")
_ITALIC = re.compile(r"(?<![*\w\\])\*(?![\s*])((?:\\\*|[^*])+?)(?<![\s\\])\*(?![*\w])")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)")
_GLOSS_AFTER = re.compile(r"\s*（[^）]*[\u4e00-\u9fff]")
_FRONT_KEYS = ("title", "summary")


@dataclass(frozen=True)
class Term:
    zh: str
    en: str
    reject: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()  # synonyms that may stand for `zh` (叶子张量 for 叶子节点)


def load_glossary(path: Path) -> list[Term]:
    """`glossary.yaml`: a list of `{zh, en, reject: [...], accept: [...]}`; ValueError if
    it is not."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise ValueError(f"not YAML: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(i, dict) and i.get("zh") for i in data):
        raise ValueError(
            "a glossary is a list of {zh: term, en: term, reject: [variants], accept: [synonyms]}"
        )
    for item in data:
        for key in ("reject", "accept"):
            if not isinstance(item.get(key) or [], list):
                raise ValueError(f"{item['zh']}: `{key}` must be a list of terms")
    return [
        Term(
            str(item["zh"]),
            str(item.get("en", "")),
            tuple(map(str, item.get("reject") or ())),
            tuple(map(str, item.get("accept") or ())),
        )
        for item in data
    ]


def glossary_for(folder: Path) -> list[Term]:
    """A lesson folder's own `glossary.yaml`, else the shipped lessons' one."""
    from autograd_tutor.core.library import shipped_lessons

    for candidate in (Path(folder) / "glossary.yaml", shipped_lessons() / "glossary.yaml"):
        if candidate.is_file():
            return load_glossary(candidate)
    return []


def _is_cjk(ch: str) -> bool:
    return bool(ch) and bool(CJK.match(ch))


def mask(text: str) -> str:
    """The text, the same length, with code, URLs, link targets and math as MASK and
    verbatim quotes as QUOTE, so columns still point into the original."""

    def blank(char: str, keep: str = "") -> Callable[[re.Match[str]], str]:
        def sub(match: re.Match[str]) -> str:
            return keep + char * (len(match.group(0)) - len(keep))

        return sub

    text = _CODE.sub(blank(MASK), text)
    text = _URL.sub(blank(MASK), text)
    text = _LINK_TARGET.sub(blank(MASK, "]"), text)
    text = _MATH.sub(blank(MASK), text)

    def italic(match: re.Match[str]) -> str:
        inner = match.group(1)
        if HAN.search(inner) or not re.search(r"[A-Za-z]", inner):
            return match.group(0)
        return QUOTE * len(match.group(0))

    return _ITALIC.sub(italic, text)


def _neighbour(text: str, i: int, step: int, skip_space: bool) -> str:
    # Emphasis marks are markup, not text: in `*推理张量*(inference tensor)` the bracket
    # follows 量.
    j = i + step
    while 0 <= j < len(text) and (text[j] == "*" or skip_space and text[j] == " "):
        j += step
    return text[j] if 0 <= j < len(text) else ""


def _pairs(text: str) -> tuple[dict[int, int], set[int]]:
    """Matching ASCII parentheses and quotes (each half to the other), and the positions
    of calls and empty pairs: `f(x)`, `()`, which are code-like, never Chinese text."""
    pairs: dict[int, int] = {}
    calls: set[int] = set()
    stack: list[int] = []
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            start = stack.pop()
            pairs[start], pairs[i] = i, start
            before = text[start - 1] if start else ""
            code_like = before.isascii() and (before.isalnum() or before in "_.]")
            if i == start + 1 or code_like and not HAN.search(text[start:i]):
                calls.update((start, i))
    quotes = [i for i, ch in enumerate(text) if ch == '"']
    for start, end in zip(quotes[::2], quotes[1::2]):
        pairs[start], pairs[end] = end, start
    return pairs, calls


def punctuation(text: str) -> list[tuple[int, str, str]]:
    """(column, found, wanted) for ASCII punctuation in Chinese text (already masked)."""
    found: dict[int, str] = {}
    chinese = bool(HAN.search(text))
    pairs, calls = _pairs(text)
    for i, ch in enumerate(text):
        prev, nxt = _neighbour(text, i, -1, False), _neighbour(text, i, 1, False)
        if chinese and (prev == QUOTE and ch in ",:;?!.(" or nxt == QUOTE and ch in ",:;"):
            # punctuation around a verbatim quote belongs to the Chinese sentence
            found[i] = FULL_WIDTH[ch]
        elif ch in ",:;?!":
            after = _neighbour(text, i, 1, True)
            # `a`, `b` or `x`;`y` in a Chinese sentence: the mark is the sentence's
            beside_code = chinese and ch in ",;" and MASK in (prev, after)
            if _is_cjk(prev) or _is_cjk(after) or beside_code:
                found[i] = FULL_WIDTH[ch]
        elif ch == ".":
            if _is_cjk(prev) and not nxt.isalnum():
                found[i] = FULL_WIDTH[ch]
        elif ch in "()" and i not in calls:
            # Chinese inside or outside; `(x + y)。` is math followed by a full stop
            inside, outside = (nxt, prev) if ch == "(" else (prev, nxt)
            if _is_cjk(inside) or HAN.match(outside or " "):
                found[i] = FULL_WIDTH[ch]
        elif ch == '"' and (_is_cjk(prev) or _is_cjk(nxt)):
            found[i] = "”" if pairs.get(i, i + 1) < i else "“"
    for i, wanted in mixed_brackets(text):
        found[i] = wanted
    # a pair is one: if one half is in Chinese text, both are
    for i in list(found):
        other = pairs.get(i)
        if other is not None and other not in found and text[i] in '()"':
            found[other] = FULL_WIDTH.get(text[other]) or ("”" if other > i else "“")
    return [(i, text[i], found[i]) for i in sorted(found)]


def mixed_brackets(text: str) -> list[tuple[int, str]]:
    """(column, wanted) for the ASCII half of a bracket pair whose other half is full width:
    `（只能修改 requires_grad)`. Only where the other half is in the same text."""
    found: list[tuple[int, str]] = []
    stack: list[int] = []
    for i, ch in enumerate(text):
        if ch in "(（":
            stack.append(i)
        elif ch in ")）" and stack:
            start = stack.pop()
            if (text[start] == "（") != (ch == "）"):
                ascii_half = i if ch == ")" else start
                found.append((ascii_half, FULL_WIDTH[text[ascii_half]]))
    return found


def glossary_terms(text: str, glossary: list[Term]) -> list[tuple[int, str, str]]:
    """(column, variant, term) for each rejected variant, unless it lies inside one of the
    glossary's own terms (`叶子` inside `叶子节点`)."""
    terms = [
        (match.start(), match.end())
        for term in glossary
        for word in (term.zh, *term.accept)
        for match in re.finditer(re.escape(word), text)
    ]
    taken = [False] * len(text)
    hits: list[tuple[int, str, str]] = []
    variants = sorted(((v, t.zh) for t in glossary for v in t.reject), key=lambda vt: -len(vt[0]))
    for variant, zh in variants:
        for match in re.finditer(re.escape(variant), text):
            start, end = match.span()
            if any(s <= start and end <= e for s, e in terms) or any(taken[start:end]):
                continue
            hits.append((start, variant, zh))
            taken[start:end] = [True] * (end - start)
    return sorted(hits)


def glosses(original: str, masked: str) -> list[str]:
    """Verbatim English quotes with no Chinese gloss `（…）` after them."""
    missing = []
    for match in re.finditer(QUOTE + "+", masked):
        quote = original[match.start() + 1 : match.end() - 1]
        if len(quote.split()) < 3:  # a word or two (`*i*`, `*element 0*`) is not a message
            continue
        if not _GLOSS_AFTER.match(masked, match.end()):
            missing.append(quote)
    return missing


def verbatim(original: str, masked: str) -> list[str]:
    """Full-width punctuation inside a verbatim quote: torch prints ASCII."""
    return [
        ch
        for match in re.finditer(QUOTE + "+", masked)
        for ch in original[match.start() : match.end()]
        if ch in FULL_WIDTH.values()
    ]


def text_problems(text: str, glossary: list[Term]) -> list[str]:
    """Every rule on one piece of prose (a line, or a catalogue text)."""
    masked = mask(text)
    problems = [
        f"{found!r}: use {wanted!r} in Chinese text" for _, found, wanted in punctuation(masked)
    ]
    problems += [
        f"{variant}: use {term} (glossary)" for _, variant, term in glossary_terms(masked, glossary)
    ]
    problems += [
        f"English message without a Chinese gloss after it: *{quote[:40]}*; add （…）"
        for quote in glosses(text, masked)
    ]
    problems += [
        f"{ch!r} inside a verbatim message: quote it as torch prints it"
        for ch in verbatim(text, masked)
    ]
    return problems


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line, text) for the lines of a lesson that are prose: front matter's title
    and summary, Markdown outside code fences, and `hint` fences."""
    lines = text.splitlines()
    start = 0
    if lines and lines[0].strip() == "---":
        for n in range(1, len(lines)):
            if lines[n].strip() == "---":
                start = n + 1
                break
            key, sep, value = lines[n].partition(":")
            if sep and key.strip() in _FRONT_KEYS:
                yield n + 1, value
    fence: str | None = None
    prose_fence = False
    for n in range(start, len(lines)):
        line = lines[n]
        match = _FENCE.match(line)
        if fence is None and match:
            fence, prose_fence = match.group(1), match.group(2) in ("hint", "question", "explain")
            continue
        if fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
                continue
            if not prose_fence:
                continue
        indented = line.startswith("    ") and not line.lstrip().startswith(("*", "-"))
        if indented and fence is None and n and not lines[n - 1].strip():
            continue  # an indented code block
        yield n + 1, line


def lesson_problems(text: str, glossary: list[Term]) -> list[tuple[int, str]]:
    """(line, message) for every rule broken in a Chinese lesson's text."""
    return [(n, msg) for n, line in prose_lines(text) for msg in text_problems(line, glossary)]
