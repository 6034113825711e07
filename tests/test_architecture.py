"""The layout is the architecture: the core knows nothing of Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import autograd_tutor.core

CORE_MODULES = sorted(
    m.name for m in pkgutil.walk_packages(autograd_tutor.core.__path__, "autograd_tutor.core.")
)


def test_core_never_imports_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_client_side_core_never_imports_torch() -> None:
    """What the UI process uses of the core must leave torch to the worker."""
    code = (
        "import sys\n"
        "import autograd_tutor.cli, autograd_tutor.core.lessonrun, autograd_tutor.core.checker\n"
        "import autograd_tutor.core.library, autograd_tutor.core.runner.client\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
