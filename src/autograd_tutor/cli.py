"""Command line: the app by default; `run`, `check`, `new` and `sandbox` for authors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autograd_tutor import __version__
from autograd_tutor.core.runner.shared.protocol import DEFAULT_TIMEOUT, finite_only
from autograd_tutor.core.runner.shared.sandbox_config import SandboxReport
from autograd_tutor.core.safe_text import SafeWriter, clean, json_escaped

if TYPE_CHECKING:
    from autograd_tutor.core.results import CellResult

COMMANDS = ("open", "run", "check", "new", "sandbox", "serve")
EPILOG = """commands:
  (none) [PATH]          open the tutor on the shipped lessons, or on PATH (a folder or a lesson)
  run PATH               run every cell of one lesson (.md, .ipynb or .py), as the app does
  check [PATH...]        validate and run lessons like a test suite (default: the shipped ones)
  new TITLE              write a new lesson file to start from
  sandbox                show which protections this machine gives the cells
  serve [PATH]           serve the tutor to a class's browsers (docs/classroom.md)

Run `autograd-tutor COMMAND --help` for a command's options."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-tutor",
        description="Learn PyTorch autograd in the terminal, one runnable lesson at a time.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"autograd-tutor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    app = sub.add_parser("open", help="open the tutor (the default command)")
    app.add_argument("path", nargs="?", type=Path, help="a folder of lessons or one lesson file")
    app.add_argument(
        "--lang", choices=("en", "zh"), help="lesson language (default: from the locale)"
    )

    run = sub.add_parser("run", help="run every cell of one lesson")
    run.add_argument("path", type=Path)
    run.add_argument("--json", action="store_true", help="one JSON record per code cell, per line")
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per cell (default {DEFAULT_TIMEOUT:g})",
    )

    chk = sub.add_parser("check", help="validate and run lessons like a test suite")
    chk.add_argument("paths", nargs="*", type=Path)
    chk.add_argument(
        "--compare-outputs",
        action="store_true",
        help="a notebook's saved text outputs must match this machine's (as nbval)",
    )
    chk.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per cell (default {DEFAULT_TIMEOUT:g})",
    )

    new = sub.add_parser("new", help="write a new lesson file")
    new.add_argument("title")
    new.add_argument(
        "--dir", type=Path, default=Path("."), help="where to write it (default: here)"
    )
    new.add_argument("--lang", choices=("en", "zh"), default="en")

    sub.add_parser("sandbox", help="show which protections the cells get here")
    _serve_parser(sub)
    return parser


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    from autograd_tutor.core.runner.shared.classcaps import ClassCaps

    d = ClassCaps()
    serve = sub.add_parser(
        "serve",
        help="serve the tutor to browsers: one warm worker for a whole class",
        description="Serve the tutor to browsers (textual-serve): each tab is a learner's "
        "own app; all sessions fork from one warm worker. See docs/classroom.md.",
        epilog="limits (each learner's cells also get the sandbox of `autograd-tutor sandbox`):\n"
        + "\n".join(f"  {line}" for line in d.describe()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("path", nargs="?", type=Path, help="a folder of lessons or one lesson")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--lang", choices=("en", "zh"), help="lesson language")
    serve.add_argument(
        "--token",
        help="access token (default: one made once, kept in the data folder and printed)",
    )
    serve.add_argument(
        "--new-token",
        action="store_true",
        help="make a fresh kept token: the learners' old links stop working",
    )
    serve.add_argument(
        "--data", type=Path, help="learners' progress folders (default: the user data dir)"
    )
    serve.add_argument(
        "--allow-partial-sandbox",
        action="store_true",
        help="serve even where cells could reach other learners' files (no mount namespace,"
        " no Landlock)",
    )
    for name, meta, text in (
        ("learner_tabs", "N", "open tabs per learner"),
        ("class_tabs", "N", "open tabs in the class"),
        ("learner_sessions", "N", "live sessions per learner"),
        ("class_sessions", "N", "live sessions in the class"),
        ("session_memory_mb", "MB", "memory per session, all its processes"),
        ("session_processes", "N", "processes (tasks) per session"),
        ("cpu_seconds", "S", "CPU seconds per session"),
        ("cell_seconds", "S", "wall-clock seconds per cell"),
        ("reserve_mb", "MB", "refuse new sessions while less memory is available"),
    ):
        default = getattr(d, name)
        serve.add_argument(
            "--" + name.replace("_", "-"),
            type=type(default),
            default=default,
            metavar=meta,
            help=f"{text} (default {default:g})",
        )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "open")
    args = _parser().parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        # A cell's text may hold what the terminal's encoding cannot (a lone surrogate from
        # a __repr__): written as an escape, never a UnicodeEncodeError that ends the run.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if args.command in ("run", "check", "new", "sandbox"):
        # Everything these print passes one sanitiser: a cell's output, a lesson's title or
        # an error message can hold escape sequences (OSC 52 sets the clipboard) or lone
        # surrogates. The app (and `serve`, which shows the app) draws through Textual and
        # cleans each string it shows instead (core/safe_text.py); `serve`'s own console
        # prints only its URL, paths it was given and validated learner keys.
        sys.stdout = SafeWriter(sys.stdout)
        sys.stderr = SafeWriter(sys.stderr)
    try:
        return COMMAND_FUNCS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001 - no traceback of ours reaches a user
        if os.environ.get("AUTOGRAD_TUTOR_DEBUG"):
            raise
        print(f"autograd-tutor: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("(set AUTOGRAD_TUTOR_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 3


def cmd_open(args: argparse.Namespace) -> int:
    from autograd_tutor.ui.launch import run_app

    return run_app(args.path, lang=args.lang)


def cmd_run(args: argparse.Namespace) -> int:
    from autograd_tutor.core.lesson import LessonError
    from autograd_tutor.core.lessonrun import run_lesson
    from autograd_tutor.core.parser import parse_file
    from autograd_tutor.core.runner.client import WorkerHost

    try:
        lesson = parse_file(args.path)
    except LessonError as err:
        print(err, file=sys.stderr)
        return 2

    def out(result: CellResult) -> None:
        # A notebook's lesson lines are no lines of its file: say its cell (`cell 4:1`).
        place = lesson.place(result.line)
        if args.json:
            print_json(result, place)
        else:
            print_human(result, place)

    if not args.json:
        print(f"{lesson.title} — {lesson.path}")

    def on_session(session) -> None:
        if not args.json:
            report = SandboxReport.from_json(session.sandbox)
            print(report.summary())
            for path, why in report.refused.items():  # the lesson's cells get less
                print(f"  not granted {path}: {why}")

    with WorkerHost() as host:
        results = run_lesson(
            host, lesson, timeout=args.timeout, on_result=out, on_session=on_session
        )
    bad = [r for r in results if not r.expected]
    if not args.json:
        print(f"\n{len(results)} cells: {len(results) - len(bad)} as expected, {len(bad)} not")
    return 1 if bad else 0


def print_json(result: CellResult, place: str = "") -> None:
    record = result.to_json()
    if place:
        record["place"] = place
    print(json_escaped(json_line(record)), flush=True)


def json_line(record: dict[str, object]) -> str:
    """A record as one line of valid JSON: no NaN or Infinity (they become null)."""
    try:
        return json.dumps(record, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return json.dumps(finite_only(record), ensure_ascii=False, allow_nan=False)


def print_human(result: CellResult, place: str = "") -> None:
    mark = "✓" if result.expected else "✗"
    extra = f" · {result.role} {result.exercise or ''}" if result.role != "code" else ""
    where = f"notebook {place.partition(':')[0]}" if place else f"line {result.line}"
    print(
        f"\n{mark} cell {result.index + 1} · {where}{extra} · {result.status}"
        f" ({result.seconds:.3f} s)"
    )
    if result.fresh_session:
        print("  (the previous session ended: this cell ran in a fresh one)")
    for text in (result.stdout, result.stderr):
        if text:  # carriage returns as a terminal shows them; SafeWriter does the rest
            print(_indent(clean(text).rstrip("\n")))
    if result.output_truncated:
        print("  … output truncated")
    for warning in result.warnings:
        times = f" (×{warning.count})" if warning.count > 1 else ""
        print(f"  {warning.category}: {warning.message}{times}")
    if result.warnings_hidden:
        hidden = result.warnings_hidden
        print(f"  … {hidden} more warning{'s' * (hidden != 1)} not shown")
    if result.value is not None:
        print(_indent(result.value, "  ⇒ "))
    error = result.error
    if error is not None:
        print(_indent(error.traceback.rstrip("\n")))
        if error.explanation is not None:
            print(f"  💡 {error.explanation.title}")
    if result.cause:
        print(f"  {result.status}: {result.cause}")
    if result.advice:
        print(f"  {result.advice}")
    for plot in result.plots:
        try:
            from autograd_tutor.core.plotdata import to_text

            print(_indent(to_text(plot.figure, width=70, height=15)))
        except Exception:  # noqa: BLE001 - a plot that cannot be drawn is skipped, not fatal
            print(f"  [plot: {plot.title or 'untitled'}]")


def _indent(text: str, first: str = "  ") -> str:
    pad = " " * len(first)
    return "\n".join((first if i == 0 else pad) + line for i, line in enumerate(text.splitlines()))


def cmd_check(args: argparse.Namespace) -> int:
    from autograd_tutor.core.checker import check
    from autograd_tutor.core.library import shipped_lessons
    from autograd_tutor.core.runner.client import WorkerHost

    paths = args.paths or [shipped_lessons()]
    for path in paths:
        if not path.exists():
            print(f"{path}:1: no such file or folder", file=sys.stderr)
            return 2

    def progress(lesson, problems) -> None:
        print(f"{'FAIL' if problems else 'ok  '} {lesson.path}", flush=True)

    with WorkerHost() as host:
        report = check(
            paths,
            host,
            timeout=args.timeout,
            on_lesson=progress,
            compare_outputs=args.compare_outputs,
        )
    for problem in report.problems:
        print(problem)
    print(report.summary())
    return report.exit_code


def cmd_new(args: argparse.Namespace) -> int:
    from autograd_tutor.core.scaffold import write_lesson

    path = write_lesson(args.title, args.dir, lang=args.lang)
    print(f"wrote {path}\nnext: edit it, then `autograd-tutor check {path}`")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from autograd_tutor.core.runner.client import WorkerHost

    with WorkerHost() as host:
        report = host.sandbox_report()
    print(report.summary())
    for line in report.details():
        print(f"  {line}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from autograd_tutor.core.runner.shared.classcaps import ClassCaps
    from autograd_tutor.ui.serve import run_server

    values = {f.name: getattr(args, f.name) for f in fields(ClassCaps)}
    bad = [f"--{k.replace('_', '-')}" for k, v in values.items() if v <= 0]
    if bad or not 0 < args.port < 65536:
        print(
            f"autograd-tutor serve: must be positive: {', '.join(bad) or '--port'}", file=sys.stderr
        )
        return 2
    return run_server(
        args.path,
        host=args.host,
        port=args.port,
        lang=args.lang,
        caps=ClassCaps(**values),
        token=args.token,
        data_root=args.data,
        allow_partial=args.allow_partial_sandbox,
        new_token=args.new_token,
    )


COMMAND_FUNCS = {
    "open": cmd_open,
    "run": cmd_run,
    "check": cmd_check,
    "new": cmd_new,
    "sandbox": cmd_sandbox,
    "serve": cmd_serve,
}
