"""The runner's client side: the one API the app and the CLI use to run cells.

It never imports torch: the UI process stays light and starts at once, while the host
imports torch in the background.
"""

from autograd_tutor.core.runner.client.deadlines import STOPPED_ANSWERING
from autograd_tutor.core.runner.client.session import EventHandler, Session, WorkerError
from autograd_tutor.core.runner.client.workerhost import WorkerHost
from autograd_tutor.core.runner.shared.protocol import DEFAULT_TIMEOUT

__all__ = [
    "DEFAULT_TIMEOUT",
    "STOPPED_ANSWERING",
    "EventHandler",
    "Session",
    "WorkerError",
    "WorkerHost",
]
