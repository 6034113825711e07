"""End to end in Chinese: the installed command with `--lang zh` in a real terminal (tmux).
The footer and an exercise's feedback are Chinese, and no English sentence of ours shows."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from .helpers import installed_command
from .test_i18n import english_of_ours
from .test_tmux import TMUX, Tmux

ZH_EXERCISE = Path(__file__).parent / "zh_fixtures" / "02-exercise.zh.md"


@pytest.mark.slow
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_installed_command_in_chinese(tmp_path: Path) -> None:
    command = installed_command()
    tmux = Tmux(f"agt-{uuid.uuid4().hex[:8]}")
    data = tmp_path / "data"
    shell = f"{command} {ZH_EXERCISE} --lang zh; echo AGT-EXIT=$?; sleep 60"
    # an English locale: --lang zh is what makes it Chinese
    tmux.start(shell, data, "LANG=C.UTF-8")
    try:
        tmux.wait_for("尚未运行")  # one file: its lesson opens at once
        tmux.wait_for("沙箱")  # the worker is ready
        tmux("send-keys", "-t", "app", "j", "u")  # up to the exercise: its check fails
        shown = tmux.wait_for("尚未完成：y 应该等于 x * 2")
        footer = shown.rstrip("\n").split("\n")[-1]
        assert "运行" in footer and "单元格" in footer, footer
        assert "练习：" not in shown  # the exercise line now gives the verdict
        assert "h：提示（已显示 0/2）" in shown
        assert english_of_ours(shown) == [], shown
        tmux("send-keys", "-t", "app", "q")
        tmux.wait_for("AGT-EXIT=0", timeout=20)
    finally:
        tmux("kill-server")
