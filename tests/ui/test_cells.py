"""Running cells in the app, against the real worker: output, errors, editing, interrupting."""

from __future__ import annotations

import pytest

from autograd_tutor.ui.widgets.plot_view import PlotPanel

from .helpers import (
    BASICS,
    cell_text,
    cells_done,
    fixture_key,
    lesson_screen,
    open_lesson,
    wait_for,
)

pytestmark = pytest.mark.anyio


async def test_run_cell_shows_stdout_and_progress(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("enter")
        await cells_done(pilot)
        text = cell_text(pilot, 0)
        assert "hello from the cell" in text
        assert "✓ ran" in text
        assert 0 in app.progress.cells_run(fixture_key("basics"))


async def test_value_and_warning_under_the_cell(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("down", "u")  # run up to here: cells 1 and 2
        await cells_done(pilot)
        text = cell_text(pilot, 1)
        assert "⇒ tensor(6., grad_fn=<SumBackward0>)" in text
        assert "UserWarning: a gentle warning (line 23)" in text


async def test_error_shows_type_message_traceback_and_explanation(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("down", "down", "u")
        await cells_done(pilot)
        text = cell_text(pilot, 2)
        assert "RuntimeError: element 0 of tensors does not require grad" in text
        assert 'File "01-basics.en.md", line 30' in text  # trimmed to lesson lines
        assert "raised as expected" in text  # tagged raises-exception
        try:
            import autograd_tutor.core.explain  # noqa: F401
        except ImportError:
            return
        assert "💡" in text and "Fix:" in text


async def test_run_all_skips_skip_execution_cells(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("a")
        await cells_done(pilot)
        states = screen.state.cells
        assert [c.result is not None for c in states] == [True, True, True, False, False, False]
        assert screen.state.run.session is not None and screen.state.run.session.alive


async def test_ui_moves_and_streams_while_a_cell_runs_then_interrupt(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("down", "down", "down", "enter")
        slow = screen.state.cells[3]
        await wait_for(pilot, lambda: "tick 3" in cell_text(pilot, 3), what="streamed output")
        text = cell_text(pilot, 3)
        assert "⏳ running" in text and " s (i: interrupt)" in text  # the timer
        # The UI is not blocked: move away and back while the cell runs.
        await pilot.press("up")
        assert screen.state.cursor == 2
        await pilot.press("down", "i")
        await cells_done(pilot, timeout=15)
        assert slow.result is not None and slow.result.error is not None
        assert slow.result.error.type == "KeyboardInterrupt"
        assert "■ interrupted" in cell_text(pilot, 3)
        assert screen.state.run.session.alive  # an interrupt keeps the session


async def test_edit_escape_run_and_reset(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("e")
        view = screen.views[0]
        assert view.editor is not None and app.focused is view.editor
        assert view.editor.language == "python"
        view.editor.load_text('print("edited run")  #')
        await pilot.press("end", "r", "escape")  # "r" is typed into the editor, not a run
        assert view.editor is None and app.focused is not None
        assert view.cs.code == 'print("edited run")  #r'
        await pilot.press("enter")
        await cells_done(pilot)
        text = cell_text(pilot, 0)
        assert "edited run" in text and "edited" in text
        await pilot.press("x")
        assert screen.state.cells[0].code == screen.state.lesson.cells[0].source
        assert "edited ·" not in cell_text(pilot, 0)


async def test_escape_sequences_are_shown_as_text(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        screen.move_to(4)
        await pilot.press("enter")
        await cells_done(pilot)
        text = cell_text(pilot, 4)
        assert "\\x1b[31mred?\\x1b[0m" in text
        assert "[bold]not markup[/bold]" in text
        assert "\x1b" not in str(screen.state.cells[4].result and cell_text(pilot, 4))


async def test_crash_is_explained_and_next_cell_runs_in_fresh_session(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        screen.move_to(5)
        await pilot.press("enter")
        await cells_done(pilot)
        text = cell_text(pilot, 5)
        assert "💥 The session crashed" in text
        assert "run the cells above again (u: run up to here)" in text
        screen.move_to(0)
        await pilot.press("enter")
        await cells_done(pilot)
        assert "ran in a fresh one" in cell_text(pilot, 0)
        assert "hello from the cell" in cell_text(pilot, 0)


async def test_timeout_stops_the_cell_and_keeps_variables(make_app) -> None:
    app = make_app()
    app.cell_timeout = 1.0
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        screen.move_to(3)
        await pilot.press("enter")
        await cells_done(pilot, timeout=20)
        result = screen.state.cells[3].result
        assert result is not None and result.status == "timeout"
        assert "time limit" in cell_text(pilot, 3)


async def test_restart_session_gives_a_fresh_namespace(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        await pilot.press("enter")
        await cells_done(pilot)
        first = screen.state.run.session
        await pilot.press("z")
        await cells_done(pilot)
        assert first is not None and not first.alive
        assert screen.state.queue.ran == frozenset()  # the new session has run nothing
        # Cell 2 uses x from cell 1, gone with the restart: cell 1 runs first again.
        await pilot.press("down", "enter")
        await cells_done(pilot)
        assert any("Running cell 1 first" in n.message for n in app._notifications)
        assert screen.state.run.session is not first
        result = screen.state.cells[1].result
        assert result is not None and result.status == "ok", result
        assert not result.fresh_session  # asked for, not a surprise
        assert screen.state.queue.ran == {0, 1}


async def test_lesson_view_keeps_state_across_lessons(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 1)
        await pilot.press("enter")
        await cells_done(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert lesson_screen(pilot).state.lesson.id == "exercise"
        await pilot.press("p")
        await pilot.pause()
        assert lesson_screen(pilot).state.lesson.id == "basics"
        assert "hello from the cell" in cell_text(pilot, 0)


async def test_open_one_lesson_file(make_app) -> None:
    app = make_app(BASICS)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: lesson_screen(pilot) is not None, what="the lesson")
        assert lesson_screen(pilot).state.lesson.path == BASICS


async def test_syntax_error_in_an_edit_shows_the_edited_line(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 2)
        screen.move_to(1)
        await pilot.press("e")
        screen.views[1].editor.load_text("y = x *")
        await pilot.press("escape", "enter")
        await cells_done(pilot)
        text = cell_text(pilot, 1)
        assert "SyntaxError" in text
        assert "y = x *" in text and "TODO" not in text.split("SyntaxError", 1)[1]


async def test_plot_is_drawn_under_the_cell(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 3)
        await pilot.press("enter")
        await cells_done(pilot)
        panel = screen.views[0].query_one(PlotPanel)
        assert panel.display and list(panel.views) == ["plot"]
        view = panel.views["plot"]
        assert view.drawn is not None and view.drawn["title"] == "fixture loss"
        assert not view.pending  # the final picture is drawn, not waiting on the throttle
        assert "┤" not in cell_text(pilot, 0)  # no text plot beside the widget


async def test_plot_falls_back_to_text_in_a_tiny_terminal(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(40, 12)) as pilot:
        screen = await open_lesson(pilot, 3)
        await pilot.press("enter")
        await cells_done(pilot)
        assert not screen.views[0].query_one(PlotPanel).display
        text = cell_text(pilot, 0)
        assert "fixture loss" in text
        assert "┤" in text  # an axis of the text plot


async def test_an_idle_lesson_pauses_its_tick_and_a_rerun_repaints_in_place(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lesson(pilot, 1)
        # Nothing runs: the tick that repaints running cells pauses itself (a class's idle
        # apps do not wake five times a second).
        await wait_for(pilot, lambda: not screen._ticker._active.is_set(), what="tick paused")
        await pilot.press("down", "down", "down", "enter")  # a cell that streams for a while
        await wait_for(pilot, lambda: "tick 2" in cell_text(pilot, 3), what="streamed output")
        assert screen._ticker._active.is_set()  # resumed while it runs
        await pilot.press("i")
        await cells_done(pilot, timeout=15)
        await wait_for(pilot, lambda: not screen._ticker._active.is_set(), what="tick paused")
        await pilot.press("up", "up", "up", "enter")
        await cells_done(pilot)
        await pilot.press("enter")
        await cells_done(pilot)
        assert cell_text(pilot, 0).count("hello from the cell") == 1
        assert "■ interrupted" in cell_text(pilot, 3)  # the other cells keep their output


async def test_cell_parts_lay_out_only_when_their_height_may_change() -> None:
    from rich.console import Group
    from rich.text import Text

    from autograd_tutor.ui.widgets.cell import _lines, _same_text, _texts

    assert _lines([Text("answer-3")], 20) == _lines([Text("answer-4")], 20) == [1]
    assert _lines([Text("a\nb"), Text("c")], 20) == [2, 1]
    assert _lines([Text("x" * 20)], 20) is None  # it may wrap: laid out
    assert _lines([Text("你好" * 5)], 20) is None  # wide characters count twice
    assert _same_text(Text("✓ ran", style="green"), Text("✓ ran", style="green"))
    assert not _same_text(Text("x", style="red"), Text("x"))
    assert _texts(Group(Text("a"), Text("b"))) is not None
    assert _texts(Group(Text("a"), Group())) is None  # anything but Texts: always updated
