"""`autograd-tutor [PATH] [--lang]`: check the path, plan where to begin, run the app."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

from autograd_tutor.core.progress import Progress
from autograd_tutor.core.runner.client.classroom import RemoteHost
from autograd_tutor.ui.app import TutorApp
from autograd_tutor.ui.startup import plan

SERVED_APP_BYTES = 768 << 20  # a tab's app process: Textual at 500x200 needs far less


def run_app(path: Path | None = None, lang: str | None = None) -> int:
    """`autograd-tutor [PATH] [--lang]`: the exit code for the shell."""
    if path is not None and not path.exists():
        print(f"autograd-tutor: {path}: no such file or folder", file=sys.stderr)
        return 2
    progress = Progress.load()
    start = plan(path, lang, progress)
    # Started by `serve` for one learner: the class's shared host, not a host of our own.
    shared = RemoteHost.from_env()
    source_name = start.source_name
    if shared is not None:
        # This process runs outside the sandbox, driven by a browser: no message from it may
        # take the machine's memory; and learners see the course's name, not a server path.
        resource.setrlimit(resource.RLIMIT_DATA, (SERVED_APP_BYTES, SERVED_APP_BYTES))
        source_name = Path(source_name).name if path is not None else source_name
    app = TutorApp(
        start.entries,
        lang=start.lang,
        progress=progress,
        source_name=source_name,
        open_at=start.open_at,
        host=shared,
        close_host=True,  # a shared host's connection is ours to close either way
    )
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)
