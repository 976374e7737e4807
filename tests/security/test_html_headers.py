"""Security headers on every HTML response the center sends, found by asking every GET
route of the app (as the admin) and keeping those that answer ``text/html``.

The wall sets its own strict policy (scripts and styles from the server only; its
browser tests check the page works under it). FastAPI's ``/docs`` and ``/redoc`` inline
their start-up script and load Swagger UI / ReDoc from a CDN, so a script or style
policy would break them; they get the headers that cannot: nosniff, no framing, no
referrer, no plugins, no ``<base>``.
"""

from __future__ import annotations

import pytest

from tests.security.center import ADMIN, Running
from tests.security.test_authorization_matrix import app_routes

HTML_ROUTES = {"/wall", "/docs", "/docs/oauth2-redirect", "/redoc"}
"""Every route answering HTML; a new one fails the test until it is listed here."""


def policy(header: str | None) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for directive in (header or "").split(";"):
        if directive.strip():
            name, *sources = directive.split()
            directives[name] = sources
    return directives


@pytest.fixture(scope="module")
def html_replies(center: Running) -> dict[str, dict[str, str]]:
    """Route path -> response headers (lower-cased names), for the HTML answers only."""
    found = {}
    for method, path in app_routes(center.service.app):
        if method != "GET":
            continue
        reply = center.call("GET", path.replace("{name:path}", "wall.js"), ADMIN)
        if (reply.header("content-type") or "").startswith("text/html"):
            assert reply.status == 200, path
            found[path] = {k.lower(): v for k, v in reply.headers}
    return found


def test_the_html_routes_are_the_known_ones(html_replies: dict[str, dict[str, str]]) -> None:
    assert set(html_replies) == HTML_ROUTES


@pytest.mark.parametrize("path", sorted(HTML_ROUTES))
def test_every_html_response_refuses_sniffing_framing_plugins_and_base(
    html_replies: dict[str, dict[str, str]], path: str
) -> None:
    headers = html_replies[path]
    csp = policy(headers.get("content-security-policy"))
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY" and csp["frame-ancestors"] == ["'none'"]
    assert headers["referrer-policy"] == "no-referrer"
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]


def test_the_wall_allows_scripts_and_styles_from_the_server_only(
    html_replies: dict[str, dict[str, str]],
) -> None:
    csp = policy(html_replies["/wall"]["content-security-policy"])
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in str(csp) and "'unsafe-eval'" not in str(csp)
