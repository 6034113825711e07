"""Predictions: an answer key read from a cell's metadata, a learner's guess read from what
they typed, the truth read from what the cell did, and the three compared.

Pure logic on text: the truth is the cell's value as the worker shows it (its `repr`, e.g.
`tensor([2., 4.])`, `torch.Size([2, 3])`, `True`), or whether the cell raised. So the
same comparison serves `check` (answer key vs truth) and the app (guess vs truth).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from autograd_tutor.core.lesson import PREDICT_KINDS, Answer, Prediction, PredictKind, Values

DEFAULT_TOL = 1e-3  # reprs print 4 decimals (`tensor(0.3333)`): exact equality would fail

# Words a learner may type, lower-cased and stripped of a final full stop.
YES = {"true", "t", "yes", "y", "1", "对", "是", "是的", "真", "正确", "会"}
NO = {"false", "f", "no", "n", "0", "错", "否", "不", "不是", "假", "不对", "错误", "不会"}
RAISES_YES = YES | {"error", "raises", "raise", "it raises", "报错", "出错", "会报错", "异常"}
RAISES_NO = NO | {"no error", "ok", "fine", "runs", "不报错", "不会报错", "没有错误", "正常"}


class AnswerKeyError(ValueError):
    """An answer key that cannot be used: the message says what to write instead."""


@dataclass(frozen=True)
class Verdict:
    """A guess beside the truth. `truth` is None when the cell gave nothing to compare
    (a value that is no number, a run that ended otherwise): then `right` is None too."""

    guess: str  # what the learner typed
    truth: str | None  # the truth written for the learner ("6.0", "(2, 3)", "raises")
    right: bool | None


# -- the answer key (the cell's fence metadata) ---------------------------------------


def read_key(metadata: dict[str, Any]) -> tuple[PredictKind, Answer, float]:
    """`number=6.0 tol=0.01`, `tensor=[[1, 2]]`, `shape=[2, 3]`, `bool=true`, `raises=false`."""
    kinds = [k for k in PREDICT_KINDS if k in metadata]
    if len(kinds) != 1:
        given = " and ".join(f"`{k}=`" for k in kinds) or "none"
        raise AnswerKeyError(
            "a predict cell needs exactly one answer key: number=, tensor=, shape=, bool= "
            f"or raises= (given: {given})"
        )
    kind = kinds[0]
    raw = metadata[kind]
    tol = metadata.get("tol", DEFAULT_TOL)
    if "tol" in metadata and kind not in ("number", "tensor"):
        raise AnswerKeyError(f"`tol=` is for number= and tensor= answers, not {kind}=")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
        raise AnswerKeyError(f"`tol` must be a number >= 0, not {tol!r}")
    answer: Answer | None
    if kind in ("bool", "raises"):
        answer = raw if isinstance(raw, bool) else None
        want = "true or false"
    elif kind == "number":
        answer = float(raw) if _is_number(raw) else None
        want = "a number"
    elif kind == "tensor":
        answer = _values(raw)
        want = "a number or a (nested) list of numbers"
    else:
        ok = isinstance(raw, list) and all(isinstance(n, int) and n >= 0 for n in raw)
        answer = tuple(raw) if ok and not any(isinstance(n, bool) for n in raw) else None
        want = "a list of sizes, e.g. [2, 3] ([] for a scalar)"
    if answer is None:
        raise AnswerKeyError(f"`{kind}=` must be {want}, not {raw!r}")
    return kind, answer, float(tol)


def _is_number(raw: Any) -> bool:
    return isinstance(raw, (int, float)) and not isinstance(raw, bool)


def _values(raw: Any) -> Values | None:
    """A nested list of numbers (or one number) as a tensor's shape and elements."""
    if _is_number(raw):
        return Values((), (float(raw),))
    if not isinstance(raw, list):
        return None
    parts = [_values(item) for item in raw]
    if any(p is None for p in parts):
        return None
    shapes = {p.shape for p in parts if p is not None}
    if len(shapes) > 1:
        return None  # ragged: no tensor has this shape
    inner = shapes.pop() if shapes else ()
    numbers = tuple(n for p in parts if p is not None for n in p.numbers)
    return Values((len(parts), *inner), numbers)


# -- reading text: a guess or a repr --------------------------------------------------

_TOKEN = re.compile(
    r"\s*(\[|\]|\(|\)|,|[-+]?(?:nan|inf|[0-9.]+(?:e[-+]?[0-9]+)?(?:/[0-9.]+)?))", re.I
)


def _literal(text: str) -> Values | None:
    """`[[1., 2.], [3., 4.]]`, `(2, 4)`, `2, 4`, `6.`, `1/3`: numbers in brackets, as Values."""
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos:].strip() == "":
                break
            return None
        tokens.append(match.group(1))
        pos = match.end()
    if not tokens:
        return None
    if tokens[0] not in "[(" and "," in tokens:
        tokens = ["[", *tokens, "]"]  # `2, 4`: a list without its brackets
    found, end = _nested(tokens, 0)
    return found if end == len(tokens) else None


def _nested(tokens: list[str], at: int) -> tuple[Values | None, int]:
    token = tokens[at] if at < len(tokens) else ""
    if token in ("[", "("):
        close = "]" if token == "[" else ")"
        parts: list[Values] = []
        at += 1
        while at < len(tokens) and tokens[at] != close:
            part, at = _nested(tokens, at)
            if part is None:
                return None, len(tokens) + 1
            parts.append(part)
            if at < len(tokens) and tokens[at] == ",":
                at += 1
        if at >= len(tokens) or len({p.shape for p in parts}) > 1:
            return None, len(tokens) + 1
        inner = parts[0].shape if parts else ()
        numbers = tuple(n for p in parts for n in p.numbers)
        return Values((len(parts), *inner), numbers), at + 1
    number = _number(token)
    if number is None:
        return None, len(tokens) + 1
    return Values((), (number,)), at + 1


def _number(token: str) -> float | None:
    top, slash, bottom = token.partition("/")
    try:
        value = float(top)
        return value / float(bottom) if slash else value
    except (ValueError, ZeroDivisionError):
        return None


_TENSOR = re.compile(r"^tensor\((.*)\)$", re.S)
_SIZE = re.compile(r"^torch\.size\((.*)\)$", re.S | re.I)
_TRAILING = re.compile(r",\s*[a-z_]+=.*$", re.S)  # `, grad_fn=<...>`, `, dtype=...`


def read_values(text: str) -> Values | None:
    """A tensor's repr, a number, or a list of numbers, as Values; None when unreadable
    (a tensor printed with `...` is summarised: its numbers are not all there)."""
    text = text.strip()
    if "..." in text or "…" in text:
        return None
    match = _TENSOR.match(text)
    if match:
        text = _TRAILING.sub("", match.group(1))
    return _literal(text)


def read_shape(text: str) -> tuple[int, ...] | None:
    """`(2, 3)`, `[2,3]`, `torch.Size([2, 3])`, `2x3`, `2×3`, `()`, `scalar`, `标量`."""
    text = text.strip().lower()
    if text in ("scalar", "标量", "torch.size([])", "()", "[]"):
        return ()
    match = _SIZE.match(text)
    if match:
        text = match.group(1)
    text = re.sub(r"(?<=\d)\s*[x×*]\s*(?=\d)", ", ", text)
    found = _literal(text)
    if found is None or not all(n.is_integer() and n >= 0 for n in found.numbers):
        return None
    if found.shape == ():
        return (int(found.numbers[0]),)  # `3`: a one-dimensional shape
    if len(found.shape) != 1:
        return None
    return tuple(int(n) for n in found.numbers)


def read_bool(text: str, raises: bool = False) -> bool | None:
    word = text.strip().lower().rstrip(".。!！")
    word = re.sub(r"^tensor\((true|false)\)$", r"\1", word)
    if word in (RAISES_YES if raises else YES):
        return True
    if word in (RAISES_NO if raises else NO):
        return False
    return None


def read(kind: PredictKind, text: str) -> Answer | None:
    """What a learner typed (or a cell's repr) as an answer of `kind`; None: unreadable."""
    if kind in ("bool", "raises"):
        return read_bool(text, raises=kind == "raises")
    if kind == "shape":
        if text.strip().startswith("tensor("):
            values = read_values(text)  # a tensor's repr: its shape
            return values.shape if values is not None else None
        return read_shape(text)
    values = read_values(text)
    if kind == "tensor" or values is None:
        return values
    # A number: a one-element tensor (`tensor(6.)`, `tensor([6.])`) is its element.
    return values.numbers[0] if len(values.numbers) == 1 else None


# -- the truth, compared --------------------------------------------------------------


def truth(kind: PredictKind, status: str, value: str | None) -> Answer | None:
    """What the cell did, as an answer of `kind`: whether it raised, or its value read."""
    if kind == "raises":
        return {"ok": False, "error": True}.get(status)
    if status != "ok" or value is None:
        return None
    if kind == "bool" and value.strip() not in ("True", "False", "tensor(True)", "tensor(False)"):
        return None  # a truthy value is no answer: the author means a real bool
    return read(kind, value)


def same(kind: PredictKind, a: Answer, b: Answer, tol: float = DEFAULT_TOL) -> bool:
    """Whether two answers of `kind` agree; numbers within `tol` (relative above 1)."""
    if kind == "number":
        return _close(float(a), float(b), tol)  # type: ignore[arg-type]
    if kind == "tensor":
        if not (isinstance(a, Values) and isinstance(b, Values)) or a.shape != b.shape:
            return False
        return all(_close(x, y, tol) for x, y in zip(a.numbers, b.numbers))
    return a == b


def _close(a: float, b: float, tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))


def show(kind: PredictKind, answer: Answer) -> str:
    """An answer written for the learner: `6.0`, `[2.0, 4.0]`, `(2, 3)`, `True`, `raises`."""
    if kind == "raises":
        return "raises" if answer else "no error"
    if kind == "shape":
        sizes = tuple(answer)  # type: ignore[arg-type]
        return "(" + ", ".join(map(str, sizes)) + ("," if len(sizes) == 1 else "") + ")"
    if isinstance(answer, Values):
        return _nested_text(answer.shape, list(answer.numbers))
    if isinstance(answer, float):
        return _num(answer)
    return str(answer)


def _num(n: float) -> str:
    return str(int(n)) + ".0" if n.is_integer() and abs(n) < 1e15 else f"{n:g}"


def _nested_text(shape: tuple[int, ...], numbers: list[float]) -> str:
    if not shape:
        return _num(numbers[0])
    step = len(numbers) // shape[0] if shape[0] else 0
    parts = [_nested_text(shape[1:], numbers[i * step : (i + 1) * step]) for i in range(shape[0])]
    return "[" + ", ".join(parts) + "]"


def judge(kind: PredictKind, tol: float, guess: str, status: str, value: str | None) -> Verdict:
    """The learner's guess beside what the cell did."""
    found = truth(kind, status, value)
    if found is None:
        return Verdict(guess, None, None)
    mine = read(kind, guess)
    right = mine is not None and same(kind, mine, found, tol)
    return Verdict(guess, show(kind, found), right)


def matches_key(prediction: Prediction, guess: str) -> bool:
    """Whether a guess is the lesson's answer key (which `check` proves is the truth)."""
    mine = read(prediction.kind, guess)
    return mine is not None and same(prediction.kind, mine, prediction.answer, prediction.tol)


def key_problem(
    kind: PredictKind, answer: Answer, tol: float, status: str, value: str | None
) -> str | None:
    """Why an answer key is not what the cell computed (None: it is), for `check`."""
    found = truth(kind, status, value)
    key = f"{kind}={show(kind, answer)}"
    if found is None:
        what = f"value {value}" if status == "ok" else f"status {status}"
        return f"the answer key {key} cannot be compared with the cell's {what}"
    if not same(kind, answer, found, tol):
        return f"the answer key {key} is wrong: the cell gives {show(kind, found)}"
    return None
