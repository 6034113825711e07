"""The served page's edge: what a browser (or any page a learner visits) may ask of `serve`.

Everything here is hostile input from the network, checked before it reaches the app:

* **Origin.** A browser sends `Origin` with every websocket. Any site a learner visits could
  otherwise open a websocket to a tutor on localhost and run cells (browsers let public
  pages reach localhost). Only the page's own origin (the `Host` it was asked for, or the
  host a proxy says it forwarded) may connect; a client with no `Origin` is no browser,
  so no page can drive it.
* **Sizes.** A terminal size from the browser is clamped: a 30000x30000 resize made the
  learner's app process, which runs outside the sandbox, grow by gigabytes.
* **Secrets in the log.** The access token and learner keys are in URLs; the access log
  shows them redacted.
* **The token**, kept in the data folder (mode 0600) so that a restart keeps every
  learner's bookmark working; `--new-token` makes a fresh one.
* **Where learners connect:** `0.0.0.0` is no address a learner can open; the machine's own
  addresses are printed instead.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit

MAX_COLUMNS, MAX_ROWS = 500, 200  # a 4K screen at a small font; more is no terminal
TOKEN_FILE = "token"
REDACTED = "…"
_SECRETS = re.compile(r"(?P<key>token=|learner=|/ws/)(?P<value>[^&\s\"/]+)(?P<rest>/[^?\s\"]*)?")


def origin_ok(origin: str | None, host: str | None, forwarded_host: str | None = None) -> bool:
    """Whether a websocket whose page came from `origin` may connect to `host`."""
    if origin is None:
        return True  # no browser: nothing a web page can make it do
    found = urlsplit(origin)
    if found.scheme not in ("http", "https") or not found.netloc:
        return False  # "null" (a sandboxed iframe, a file://) and the like
    return found.netloc.lower() in {h.lower() for h in (host, forwarded_host) if h}


def clamp_size(width: object, height: object, default: tuple[int, int] = (80, 24)) -> tuple[int, int]:
    """A terminal size from the browser, as whole numbers within what a screen can show."""
    return _clamp(width, default[0], MAX_COLUMNS), _clamp(height, default[1], MAX_ROWS)


def _clamp(value: object, default: int, most: int) -> int:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default
    return max(10, min(number, most))


def redact(text: str) -> str:
    """`text` with access tokens and learner keys in URLs replaced by an ellipsis."""

    def hide(match: re.Match[str]) -> str:
        rest = match.group("rest") or ""
        if match.group("key") == "/ws/" and rest:
            rest = "/" + REDACTED  # /ws/KEY/TOKEN
        return match.group("key") + REDACTED + rest

    return _SECRETS.sub(hide, text)


class RedactSecrets(logging.Filter):
    """A filter for the access log (and any other): no token or learner key is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


def stored_token(folder: Path, new: bool = False) -> str:
    """The class's access token, kept in `folder` so a restart keeps learners' bookmarks."""
    path = folder / TOKEN_FILE
    if not new:
        try:
            kept = path.read_text(encoding="utf-8").strip()
        except OSError:
            kept = ""
        if re.fullmatch(r"[A-Za-z0-9_-]{16,100}", kept):
            return kept
    token = secrets.token_urlsafe(18)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


def reachable_hosts(host: str) -> list[str]:
    """The addresses a learner can open for a server bound to `host` (all of the machine's
    IPv4 addresses that it knows by its own name, then loopback, for a wildcard)."""
    if host not in ("0.0.0.0", "::", ""):
        return [host]
    found: list[str] = []
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for *_, address in infos:
        ip = str(address[0])
        if ip not in found and not ip.startswith("127."):
            found.append(ip)
    return [*found, "127.0.0.1"]
