"""The served page's edge (ui/serve_guard.py): what a browser, or another site's page in a
learner's browser, may ask of `serve` (issue 22.1 and 22.2). Pure functions first, then the
real server: a kept token, a redacted log, a foreign Origin refused, a huge resize clamped."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import aiohttp
import pytest

from autograd_tutor.ui.serve_guard import (
    MAX_COLUMNS,
    MAX_ROWS,
    RedactSecrets,
    clamp_size,
    origin_ok,
    reachable_hosts,
    redact,
    stored_token,
)
from tests.classroom.serving import serving


def test_only_the_pages_own_origin_may_open_a_websocket() -> None:
    assert origin_ok("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert origin_ok("https://tutor.school.example", "127.0.0.1:8000", "tutor.school.example")
    assert not origin_ok("http://evil.example", "127.0.0.1:8000")
    assert not origin_ok("http://127.0.0.1:9999", "127.0.0.1:8000")  # another local page
    assert not origin_ok("null", "127.0.0.1:8000")  # a sandboxed iframe, a file:// page
    assert origin_ok(None, "127.0.0.1:8000")  # no browser, so no web page behind it


def test_sizes_from_the_browser_are_clamped() -> None:
    assert clamp_size(30000, 30000) == (MAX_COLUMNS, MAX_ROWS)
    assert clamp_size(-5, "x") == (10, 24)
    assert clamp_size(None, 10**30) == (80, MAX_ROWS)
    assert clamp_size("120", "40") == (120, 40)


def test_tokens_and_learner_keys_never_reach_the_log() -> None:
    line = 'GET /ws/alice_1/s3cretTOKEN?width=80 "GET /?token=s3cretTOKEN&learner=bob HTTP/1.1"'
    shown = redact(line)
    assert "s3cretTOKEN" not in shown and "alice_1" not in shown and "bob" not in shown
    record = logging.LogRecord("aiohttp.access", 20, "", 0, "%s", ("GET /?token=abc",), None)
    assert RedactSecrets().filter(record) and "abc" not in record.getMessage()


def test_the_token_is_kept_until_a_new_one_is_asked_for(tmp_path: Path) -> None:
    first = stored_token(tmp_path)
    assert stored_token(tmp_path) == first
    assert (tmp_path / "token").stat().st_mode & 0o777 == 0o600
    assert stored_token(tmp_path, new=True) != first


def test_a_wildcard_address_is_printed_as_addresses_a_learner_can_open() -> None:
    hosts = reachable_hosts("0.0.0.0")
    assert "0.0.0.0" not in hosts and hosts[-1] == "127.0.0.1"
    assert reachable_hosts("192.0.2.7") == ["192.0.2.7"]


async def _websocket(url: str, origin: str | None, resize: bool) -> int | str:
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as client:
        try:
            async with client.ws_connect(url, headers=headers) as ws:
                if resize:
                    await ws.send_json(["resize", {"width": 30000, "height": 30000}])
                    await ws.send_str("not json")  # dropped, not a crash
                    await ws.send_json(["resize", "no dict"])
                    deadline = time.monotonic() + 120
                    while time.monotonic() < deadline:
                        message = await ws.receive(timeout=deadline - time.monotonic())
                        if message.type != aiohttp.WSMsgType.BINARY:
                            continue
                        if b"sandbox:" in message.data:
                            return "answered"
                    return "silent"
                return "open"
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status


@pytest.mark.slow  # starts two servers (a torch import each)
@pytest.mark.timeout(600)
def test_the_real_server_keeps_its_token_refuses_other_origins_and_clamps(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(data) as served:  # localhost, no --token: one is made and kept
        assert served.token and (data / "token").read_text().strip() == served.token
        url = served.websocket("alice", "width=30000&height=30000")
        assert asyncio.run(_websocket(url, "http://evil.example", False)) == 403
        same_origin = served.base
        assert asyncio.run(_websocket(url, same_origin, True)) == "answered"
        log = next(tmp_path.glob("serve-*.log")).read_text(errors="replace")
        assert served.token not in log.split("serving the tutor on")[-1].split("\n", 1)[1]
        assert "alice" not in log
    with serving(data) as again:
        assert again.token == served.token  # the learners' bookmarks still work
