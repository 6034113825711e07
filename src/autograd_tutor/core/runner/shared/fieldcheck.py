"""Checks of one field of a frame against the protocol's type (frames.py uses them).

Each takes the frame's object and the field's name, and answers the value (text made
encodable) or raises `Bad` with a few words on what is wrong. Pure standard library.
"""

from __future__ import annotations

import math
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


class Bad(Exception):
    """A field that breaks the protocol; frames.parse_frame turns it into a violation."""


_MISSING = object()


def _field(m: dict[str, Any], key: str, default: Any) -> Any:
    value = m.get(key, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise Bad(f"no {key!r}")
        return default
    return value


def text(m: dict[str, Any], key: str, *, none: bool = False, default: Any = _MISSING) -> Any:
    value = _field(m, key, default)
    if value is None and none:
        return None
    if not isinstance(value, str):
        raise Bad(f"{key!r} is {_type(value)}, not text")
    return clean_text(value)


def whole(m: dict[str, Any], key: str, *, none: bool = False, default: Any = _MISSING) -> Any:
    value = _field(m, key, default)
    if value is None and none:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Bad(f"{key!r} is {_type(value)}, not a whole number")
    if value < 0:
        raise Bad(f"{key!r} is negative")
    return value


def boolean(m: dict[str, Any], key: str, *, default: Any = _MISSING) -> bool:
    value = _field(m, key, default)
    if not isinstance(value, bool):
        raise Bad(f"{key!r} is {_type(value)}, not true or false")
    return value


def number(m: dict[str, Any], key: str) -> float:
    value = finite(_field(m, key, _MISSING), repr(key))
    if value < 0:
        raise Bad(f"{key!r} is negative")
    return value


def finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Bad(f"{what} is {_type(value)}, not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise Bad(f"{what} is not finite")
    if isinstance(value, int) and abs(value) > 2**53:
        raise Bad(f"{what} is too large")
    return value


def listed(m: dict[str, Any], key: str, most: int | None = None, what: str = "") -> list[Any]:
    value = _field(m, key, _MISSING)
    if not isinstance(value, list):
        raise Bad(f"{key!r} is {_type(value)}, not a list")
    if most is not None and len(value) > most:
        raise Bad(f"more than {most} {what or key}")
    return value


def obj(m: dict[str, Any], key: str) -> dict[str, Any]:
    return as_dict(_field(m, key, _MISSING), repr(key))


def as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Bad(f"{what} is {_type(value)}, not an object")
    return value


def shape(m: dict[str, Any], *, none: bool = False) -> list[int] | None:
    value = m.get("shape") if none else _field(m, "shape", _MISSING)
    if value is None and none:
        return None
    if not isinstance(value, list) or len(value) > 64:
        raise Bad("a shape that is not a short list")
    return [whole({"dim": d}, "dim") for d in value]


def clean_text(value: str) -> str:
    """`value` made encodable as UTF-8: a lone surrogate (a `__repr__` may return one)
    becomes its escape, `\\ud800`, instead of failing whoever writes it out."""
    if _SURROGATE.search(value) is None:
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _type(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def short(value: Any) -> str:
    """`value` as a few words of a violation's detail."""
    shown = repr(value)
    return clean_text(shown if len(shown) <= 40 else shown[:39] + "…")
