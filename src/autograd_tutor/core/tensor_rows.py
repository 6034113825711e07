"""The tensor inspector's rows, compared between two looks (pure Python, no torch).

The cell process builds the rows (`runner/cell/introspect.py`, each with a fingerprint of
the tensor's values and autograd state); the app marks the ones the last cell changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def changed(before: Iterable[dict[str, Any]], after: Iterable[dict[str, Any]]) -> set[str]:
    """Names in `after` that are new or whose fingerprint differs from `before`."""
    old = {row["name"]: row["fingerprint"] for row in before}
    return {row["name"] for row in after if old.get(row["name"]) != row["fingerprint"]}
