"""The UI process never imports torch: cells run in the worker, the app stays light."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from .helpers import FIXTURES

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path

    from autograd_tutor.core.progress import Progress
    from autograd_tutor.ui.app import TutorApp
    from autograd_tutor.ui.startup import plan

    async def main() -> None:
        progress = Progress.load()
        start = plan(Path(sys.argv[1]), "en", progress)
        app = TutorApp(start.entries, lang="en", progress=progress)  # its own worker host
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("enter")   # open lesson 1
            await pilot.pause()
            await pilot.press("enter")   # run its first cell
            state = next(iter(app.states.values()))
            for _ in range(1200):
                if state.cells[0].result is not None:
                    break
                await pilot.pause(0.05)
            result = state.cells[0].result
            assert result is not None and result.status == "ok", result
            assert "hello from the cell" in result.stdout
            await pilot.press("q")
        assert "torch" not in sys.modules, "the UI process imported torch"
        print("NO-TORCH-OK")

    asyncio.run(main())
    """
)


def test_ui_process_never_imports_torch(tmp_path: Path) -> None:
    env = {**os.environ, "AUTOGRAD_TUTOR_DATA": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(FIXTURES)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "NO-TORCH-OK" in done.stdout
