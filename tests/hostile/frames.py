"""What learner code that forges the worker's frames runs: helpers for the hostile tests.

Learner code runs in the cell process, where the relay's channel is fd 3, and the id of the
request it runs under is a local of the loop's frames (`request`). FORGE defines, in the
cell, `_rid()` (that id, found on the stack as an attacker would), `_write(bytes)` and
`_frame(dict)` (a frame written to fd 3; NaN and lone surrogates as json.dumps writes them).
"""

from __future__ import annotations

FORGE = r"""
import json as _j, os as _os, struct as _st, sys as _sys
def _rid():
    f = _sys._getframe()
    while f is not None:
        r = f.f_locals.get("request")
        if isinstance(r, dict) and "id" in r:
            return r["id"]
        f = f.f_back
def _write(data):
    view = memoryview(data)
    while view:
        view = view[_os.write(3, view):]
def _frame(msg):
    body = _j.dumps(msg).encode()
    _write(_st.pack(">I", len(body)) + body)
def _done(**fields):
    frame = {"ev": "done", "id": _rid(), "status": "ok", "value": "'forged'", "error": None,
             "warnings": [], "seconds": 0.0}
    frame.update(fields)
    return frame
"""


def forge(code: str) -> str:
    """A cell that runs `code` with the forging helpers defined."""
    return FORGE + code
