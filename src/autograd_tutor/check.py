"""Exercise checks that speak the learner's language (`from autograd_tutor.check import say`).

A check cell is code, and code cells are identical across a lesson's translations, so a
check carries its message in every language and the lesson's language picks one:

    assert w.requires_grad, say(en="w must require gradients", zh="w 需要 requires_grad=True")

`assert` evaluates the message only when the check fails, so it may use names the check has
just found missing. The language is the one of the lesson file the calling cell runs from
(the cell's code is compiled under the lesson's path: `NN-slug.zh.md`, or front matter
`lang: zh`); elsewhere (Jupyter) it is `AUTOGRAD_TUTOR_LANG`, else English. Standard library
only: it runs in the cell process.
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache

__all__ = ["language", "say"]

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
