"""Slow optional imports, done ahead of time so that no learner's cell waits for them.

The host warms them one at a time while the app is quiet; a fresh cell process that nobody
is waiting for yet finishes whatever the host had not done when it forked.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

SLOW_IMPORTS = (
    "matplotlib.pyplot",
    # IPython's input transformer, for cells with magics (magics.py): ~140 ms after torch
    # alone, ~40 ms after matplotlib (they share dependencies), so it comes second. Not
    # preloaded: the host's `ready` (the first cell of every lesson) would wait for it.
    "IPython.core.inputtransformer2",
    # Imported lazily by the first backward() given a gradient tensor (pulls in sympy):
    # ~0.6 s that would otherwise land on a learner's cell.
    "torch.fx.experimental.symbolic_shapes",
    # Imported by the first torch.optim optimizer a session creates: ~1.6 s.
    "torch._dynamo",
    # Imported by the first forward-mode call (torch.func.jvp, jacfwd, forward_ad.make_dual),
    # which TorchScript-compiles its decompositions: 2.2 s on a busy 2-core machine, paid by
    # lesson 16's first jvp cell otherwise.
    "torch._decomp.decompositions_for_jvp",
)


IDLE_BEFORE_WARMING = 1.0  # seconds without requests: the app has what it asked for


class Warming:
    """In a host: one slow import at a time, and only after a quiet second, so that a
    session asked for meanwhile waits at most for one import, not for all of them."""

    def __init__(self) -> None:
        self.to_warm = list(SLOW_IMPORTS)
        self.quiet_from = time.monotonic()  # the last request or import

    def timeout(self) -> float | None:
        """Seconds until the next import is due; None when all are done."""
        if not self.to_warm:
            return None
        return max(IDLE_BEFORE_WARMING - (time.monotonic() - self.quiet_from), 0.0)

    def busy(self) -> None:
        self.quiet_from = time.monotonic()

    def idle(self) -> None:
        """Nothing was asked: the next import, if the host has been quiet long enough."""
        if self.to_warm and time.monotonic() - self.quiet_from >= IDLE_BEFORE_WARMING:
            warm_one(self.to_warm.pop(0))
            self.quiet_from = time.monotonic()


def next_wait(*timeouts: float | None) -> float | None:
    """The select() timeout for the soonest of these (None: none due)."""
    return min((max(t, 0.0) for t in timeouts if t is not None), default=None)


def warm_one(module: str) -> None:
    try:
        __import__(module)
    except Exception:  # noqa: BLE001 - optional; a cell that needs it will say why
        pass


def warm_extras(wanted: Callable[[], bool] = lambda: False) -> None:
    """The slow imports the host had not done when it forked us, one at a time, stopping as
    soon as `wanted()` says a request is waiting: an import cannot be cut short, so a
    learner who takes this session waits at most for the one under way."""
    for module in SLOW_IMPORTS:
        if wanted():
            return
        if module not in sys.modules:
            warm_one(module)
