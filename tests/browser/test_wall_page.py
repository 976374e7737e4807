"""The wall's HTTP side, no browser needed: headers, content types, static files, and a
page that keeps every script and style in files (what the CSP requires)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import aiohttp
import pytest
import uvicorn
from fastapi import FastAPI

from monitor_center.wall import STATIC_DIR, add_wall_routes, content_security_policy
from tests.running import free_port
from tests.waiting import wait_until


@pytest.fixture
async def wall_base() -> AsyncIterator[str]:
    """A bare app with only the wall's routes, served on loopback."""
    app = FastAPI()
    add_wall_routes(app)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    try:
        await wait_until(started, timeout=10, what="the wall server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _get(url: str) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, dict(response.headers), await response.text()


def _directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


def _assert_security_headers(headers: dict[str, str], host: str) -> None:
    csp = _directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]


async def test_the_page_carries_the_csp_and_security_headers(wall_base: str) -> None:
    status, headers, body = await _get(wall_base + "/wall")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    _assert_security_headers(headers, wall_base.removeprefix("http://"))
    assert '<html lang="vi">' in body and "Tỉnh, thành phố" in body


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("wall.js", "text/javascript; charset=utf-8"),
        ("wall.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
async def test_static_files_have_their_type_and_the_headers(
    wall_base: str, name: str, content_type: str
) -> None:
    status, headers, body = await _get(f"{wall_base}/wall/static/{name}")
    assert status == 200 and body
    assert headers["Content-Type"] == content_type
    _assert_security_headers(headers, wall_base.removeprefix("http://"))


@pytest.mark.parametrize(
    "path", ["missing.js", "../__init__.py", "..%2F__init__.py", "wall.html", "/etc/passwd"]
)
async def test_only_indexed_static_files_are_served(wall_base: str, path: str) -> None:
    status, _, body = await _get(f"{wall_base}/wall/static/{path}")
    assert status == 404
    assert "import" not in body and "root:" not in body


def test_a_crafted_host_cannot_add_sources_to_the_policy() -> None:
    for host in ["evil.example; script-src *", "a b", "x'y", ""]:
        csp = _directives(content_security_policy(host))
        assert csp["connect-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'"]
    assert _directives(content_security_policy("[::1]:8080"))["connect-src"] == [
        "'self'",
        "ws://[::1]:8080",
        "wss://[::1]:8080",
    ]


class _InlineFinder(HTMLParser):
    """Collects what a strict CSP would refuse: inline scripts, style, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style" or "style" in names:
            self.inline.append(f"style on <{tag}>")
        self.inline += [f"{name} on <{tag}>" for name in names if name.startswith("on")]
        if tag == "script" and "src" not in names:
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("inline <script>")


def test_the_page_has_no_inline_script_or_style() -> None:
    finder = _InlineFinder()
    finder.feed((STATIC_DIR / "wall.html").read_text(encoding="utf-8"))
    assert finder.inline == []


def test_the_script_builds_no_markup_from_strings() -> None:
    """Trusted Types would refuse these at run time; keep them out of the source."""
    script = (STATIC_DIR / "wall.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)
