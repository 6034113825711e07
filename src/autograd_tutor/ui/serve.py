"""`autograd-tutor serve`: the tutor in browsers, one app process per tab (textual-serve).

The web side only: who may connect and as which learner, and the environment of each tab's
app process. The app itself is the terminal one (`autograd-tutor open`), pointed at the
class's shared host (`core/runner/client/classroom.py`) and at the learner's own data folder.

* **Access.** With a token (required off localhost), the page and its websocket both need
  it: `/?token=...`; anything else is a 403 with a sentence, not a traceback.
* **Learners.** A learner is a key in the URL, `/?learner=KEY`: a page opened without one is
  sent to a fresh random key, which the learner bookmarks; a teacher may hand out keys of
  their own (letters, digits, `-`, `_`). The key names the learner's folder under the
  server's data folder (progress, where they left off) and their sessions' scratch.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import secrets
import shlex
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from autograd_tutor.core.progress import ENV_DIR
from autograd_tutor.core.runner.client.classroom import SharedHost
from autograd_tutor.core.runner.shared.classcaps import (
    ENV_LEARNER,
    ENV_SOCKET,
    LEARNER_KEY,
    ClassCaps,
)
from autograd_tutor.core.runner.shared.sandbox_config import SandboxReport
from autograd_tutor.ui.class_watch import ClassWatch
from autograd_tutor.ui.i18n import _, set_language
from autograd_tutor.ui.serve_guard import (
    RedactSecrets,
    clamp_size,
    origin_ok,
    reachable_hosts,
    stored_token,
)

log = logging.getLogger("autograd-tutor-serve")
NO_TOKEN = "-"  # the websocket path's token segment when the class has none


class LearnerApp(AppService):
    """One tab's app process, with the learner's environment."""

    def __init__(self, command: str, extra_env: dict[str, str], **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.extra_env = extra_env

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**super()._build_environment(width, height), **self.extra_env}


class ClassServer(Server):
    def __init__(
        self,
        app_args: list[str],
        *,
        host: str,
        port: int,
        caps: ClassCaps,
        socket_path: Path,
        data_root: Path,
        token: str = "",
        shared: SharedHost | None = None,
    ) -> None:
        command = shlex.join([sys.executable, "-m", "autograd_tutor", "open", *app_args])
        super().__init__(command, host=host, port=port, title="autograd-tutor")
        self.caps, self.socket_path, self.data_root, self.token = (
            caps,
            socket_path,
            data_root,
            token,
        )
        self.tabs: dict[str, int] = {}  # learner key -> open tabs
        # The class's host kept alive, and the teacher's status line (class_watch.py).
        self.watch = ClassWatch(shared, self.tabs, self._say) if shared is not None else None
        self._watching: asyncio.Task[None] | None = None

    def _say(self, line: str) -> None:
        self.console.print(line, highlight=False, soft_wrap=True)

    def url(self, host: str | None = None) -> str:
        host = host or self.host
        host = f"[{host}]" if ":" in host else host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    def initialize_logging(self) -> None:
        super().initialize_logging()
        # Tokens and learner keys travel in URLs: the access log shows neither.
        for name in ("aiohttp.access", "aiohttp.server", "aiohttp.web"):
            logging.getLogger(name).addFilter(RedactSecrets())

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws/{learner}/{token}", self.handle_websocket, name="websocket"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_cleanup.append(self.on_cleanup)
        return app

    async def on_cleanup(self, app: web.Application) -> None:
        if self._watching is not None:
            self._watching.cancel()

    async def on_startup(self, app: web.Application) -> None:
        for host in reachable_hosts(self.host):  # 0.0.0.0 is no address a learner can open
            line = f"autograd-tutor: serving the tutor on {self.url(host)}"
            self.console.print(line, highlight=False, soft_wrap=True)  # a URL is never cut
        self.console.print("Press Ctrl+C to stop.", highlight=False)
        if self.watch is not None:
            self._watching = asyncio.create_task(self.watch.run())

    def _token_ok(self, given: str) -> bool:
        return not self.token or hmac.compare_digest(given.encode(), self.token.encode())

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        if not self._token_ok(request.query.get("token", "")):
            raise web.HTTPForbidden(
                text=_(
                    "This class needs its access token: open the link `autograd-tutor serve`"
                    " printed (it ends in ?token=...)."
                )
                + "\n"
            )
        learner = request.query.get("learner")
        if learner is None:
            # A fresh learner: a random key of their own, kept in the URL they bookmark.
            query = {**request.query, "learner": secrets.token_urlsafe(9)}
            raise web.HTTPFound(request.url.with_query(query))
        if not LEARNER_KEY.fullmatch(learner):
            raise web.HTTPBadRequest(
                text=_("A learner key is 1 to 40 letters, digits, '-' or '_' (got {key}).").format(
                    key=repr(learner[:50])
                )
                + "\n"
            )
        # Behind a TLS proxy (docs/classroom.md) the page is https: its websocket must be wss.
        https = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
        scheme = "wss" if https else "ws"
        token = self.token or NO_TOKEN
        return {
            "font_size": 16,
            "app_websocket_url": f"{scheme}://{request.host}/ws/{learner}/{token}",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": "autograd-tutor"},
        }

    def _tab_refusal(self, learner: str) -> str:
        if self.tabs.get(learner, 0) >= self.caps.learner_tabs:
            return _("You already have {n} tabs of the tutor open: use one.").format(
                n=self.caps.learner_tabs
            )
        if sum(self.tabs.values()) >= self.caps.class_tabs:
            return _("The class server is full: try again in a minute.")
        return ""

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        learner, token = request.match_info["learner"], request.match_info["token"]
        headers = request.headers
        if not origin_ok(headers.get("Origin"), request.host, headers.get("X-Forwarded-Host")):
            # Another site's page, reaching a tutor through the learner's browser.
            raise web.HTTPForbidden(text=_("This page may not use the class's tutor.") + "\n")
        if not LEARNER_KEY.fullmatch(learner) or not self._token_ok(
            "" if token == NO_TOKEN else token
        ):
            raise web.HTTPForbidden(text=_("Not a learner of this class.") + "\n")
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        refusal = self._tab_refusal(learner)
        if refusal:
            # The browser's terminal shows what the app would have: one line, then the end.
            await websocket.send_bytes(f"\r\n  {refusal}\r\n".encode())
            await websocket.close()
            return websocket
        width, height = clamp_size(request.query.get("width"), request.query.get("height"))
        data = self.data_root / "learners" / learner
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {ENV_SOCKET: str(self.socket_path), ENV_LEARNER: learner, ENV_DIR: str(data)}
        service = LearnerApp(
            self.command,
            env,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.tabs[learner] = self.tabs.get(learner, 0) + 1
        try:
            await service.start(width, height)
            try:
                await self._process_messages(websocket, service)
            finally:
                await service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - one tab's failure is logged, the class goes on
            log.error("a learner's app failed: %s", error)
        finally:
            self.tabs[learner] -= 1
        return websocket


    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        """textual-serve's loop over the browser's envelopes, each checked: a malformed one
        is dropped, a size is clamped (serve_guard.py), the rest as textual-serve does."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, data = json.loads(message.data)
            except (ValueError, TypeError):
                continue  # not a two-item JSON list: nothing a browser of ours sends
            if kind == "stdin" and isinstance(data, str):
                await app_service.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await app_service.set_terminal_size(*clamp_size(data.get("width"), data.get("height")))
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()


def files_walled_off(socket_path: Path) -> SandboxReport:
    """What a learner's session gets here, asked of the class's host as an app asks."""
    from autograd_tutor.core.runner.client.classroom import RemoteHost

    probe = RemoteHost(str(socket_path), "server-probe", keep_spare=False)
    try:
        report = probe.sandbox_report()
    finally:
        probe.close()
    # Cells must not reach the class's socket nor other learners' folders: either wall does.
    walls = [
        name
        for name in report.active
        if name.startswith(("mount namespace", "landlock filesystem"))
    ]
    missing = {} if walls else {"file walls": "no mount namespace and no Landlock"}
    return SandboxReport(active=walls, missing=missing)


def environment_ok() -> str:
    """Why `serve` cannot run here; "" when it can (the sandbox needs Linux)."""
    if not sys.platform.startswith("linux"):
        return "serve runs on Linux only: the sandbox uses Linux's kernel mechanisms"
    if not hasattr(os, "fork"):
        return "serve needs fork()"
    return ""


def run_server(
    path: Path | None,
    *,
    host: str,
    port: int,
    lang: str | None,
    caps: ClassCaps,
    token: str | None,
    data_root: Path | None,
    allow_partial: bool = False,
    new_token: bool = False,
) -> int:
    """`autograd-tutor serve`: start the class's host, then the web server; the exit code."""
    from autograd_tutor.core.progress import data_dir
    from autograd_tutor.core.runner.client.session import WorkerError

    problem = environment_ok()
    if problem:
        print(f"autograd-tutor serve: {problem}", file=sys.stderr)
        return 2
    if path is not None and not path.exists():
        print(f"autograd-tutor serve: {path}: no such file or folder", file=sys.stderr)
        return 2
    if lang:
        set_language(lang)  # the server's own pages speak the class's language
    data_root = data_root or data_dir() / "classroom"
    if token is None:
        # Anyone who reaches the port could run code, and on localhost any page the learner
        # visits could try: always a token, like Jupyter's, kept so a restart keeps the
        # learners' bookmarks (--new-token makes a fresh one).
        token = stored_token(data_root, new=new_token)
    app_args = [str(path.resolve())] if path is not None else []
    if lang:
        app_args += ["--lang", lang]
    shared = SharedHost(caps)
    try:
        print("autograd-tutor serve: starting the class's worker (importing torch)…", flush=True)
        try:
            info = shared.wait_ready()
        except WorkerError as exc:
            print(f"autograd-tutor serve: {exc}", file=sys.stderr)
            return 1
        print(f"autograd-tutor serve: worker ready (torch {info.get('torch', '?')})")
        for line in caps.describe():
            print(f"  {line}")
        walls = files_walled_off(shared.socket_path)
        print(f"  {walls.summary()}")
        if not walls.full and not allow_partial:
            print(
                "autograd-tutor serve: refused: without a mount namespace or Landlock, one"
                " learner's cells could open the class's socket and other learners' files."
                " Use a kernel that offers them, or --allow-partial-sandbox to serve anyway.",
                file=sys.stderr,
            )
            return 1
        server = ClassServer(
            app_args,
            host=host,
            port=port,
            caps=caps,
            socket_path=shared.socket_path,
            data_root=data_root,
            token=token or "",
            shared=shared,
        )
        try:
            server.serve()
        except OSError as exc:  # the port is taken, the address is not ours...
            print(
                f"autograd-tutor serve: cannot listen on {host}:{port}: {exc.strerror}",
                file=sys.stderr,
            )
            return 1
    finally:
        shared.close()
    return 0
