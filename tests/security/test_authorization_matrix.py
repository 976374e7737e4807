"""Who may call what: every route of the app, read from ``app.routes``, against every kind
of caller, on a running center with a real database.

The role each route needs is written down in ``GUARDS``. A route the table does not know
fails (a new route, or one that forgot its guard), and so does an entry the app no longer
has. Expected answers: 401 without a token or with a wrong one, 403 for too small a role,
anything but 401/403 (and not a 5xx) for a role that is enough. The live websocket answers
its refusals before accepting, so there a refusal is the upgrade's HTTP 403, for a
missing or wrong token and for a foreign ``Origin`` even with an admin token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import pytest
from fastapi import FastAPI
from starlette.routing import Route, WebSocketRoute
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.security.center import (
    ADMIN,
    HANOI,
    HANOI_ENDPOINT,
    HANOI_SERIES,
    OPERATOR,
    VIEWER,
    WRONG,
    Running,
    firing_alert,
    new_service,
    write_config,
)

PUBLIC: Final = "public"
WS: Final = "WS"
Key = tuple[str, str]

GUARDS: dict[Key, str] = {
    # Public: probes, scrapes (no metrics_token configured here), the wall, the docs.
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/wall"): PUBLIC,
    ("GET", "/wall/static/{name:path}"): PUBLIC,
    (WS, "/ws/live"): "viewer",
    ("GET", "/api/v1/endpoints"): "viewer",
    ("GET", "/api/v1/endpoints/{endpoint_id}"): "viewer",
    ("GET", "/api/v1/agencies"): "viewer",
    ("POST", "/api/v1/config/reload"): "admin",
    ("GET", "/api/v1/alerts"): "viewer",
    ("GET", "/api/v1/alerts/{alert_id}"): "viewer",
    ("POST", "/api/v1/alerts/{alert_id}/ack"): "operator",
    ("GET", "/api/v1/silences"): "viewer",
    ("POST", "/api/v1/silences"): "operator",
    ("DELETE", "/api/v1/silences/{silence_id}"): "operator",
    ("GET", "/api/v1/maintenance"): "viewer",
    ("POST", "/api/v1/maintenance"): "admin",
    ("DELETE", "/api/v1/maintenance/{window_id}"): "admin",
    ("GET", "/api/v1/notifications"): "viewer",
    ("GET", "/api/v1/series"): "viewer",
    ("GET", "/api/v1/series/{series_id}/points"): "viewer",
    ("POST", "/api/v1/series/{series_id}/samples"): "operator",
    ("GET", "/api/v1/sla"): "viewer",
    ("GET", "/api/v1/incidents"): "viewer",
    ("GET", "/api/v1/scorecard"): "viewer",
}
AGENCY_MAY_PUSH: Final = ("POST", "/api/v1/series/{series_id}/samples")
"""A token scoped to the series' agency may push, whatever its role (series_routes)."""
_RANK = {"viewer": 0, "operator": 1, "admin": 2}
SILENCES, MAINTENANCE = "/api/v1/silences", "/api/v1/maintenance"

BODIES: dict[Key, Any] = {
    ("POST", "/api/v1/alerts/{alert_id}/ack"): {"comment": "đang xử lý"},
    ("POST", SILENCES): {"matchers": {"subject": "ha-noi-*"}, "duration": "PT1H"},
    ("POST", MAINTENANCE): {
        "agency": "ha-noi",
        "starts_at": "2030-11-29T01:00:00+07:00",
        "ends_at": "2030-11-29T03:00:00+07:00",
    },
    AGENCY_MAY_PUSH: {"samples": [{"time": "2025-06-01T00:00:00Z", "value": 42}]},
}


@dataclass(frozen=True)
class Caller:
    name: str
    token: str | None
    role: str | None
    """None: not authenticated."""
    scoped: bool = False
    origin: Origin | None = None


CALLERS = (
    Caller("no token", None, None),
    Caller("wrong token", WRONG, None),
    Caller("viewer", VIEWER, "viewer"),
    Caller("operator", OPERATOR, "operator"),
    Caller("admin", ADMIN, "admin"),
    Caller("agency-scoped viewer", HANOI, "viewer", scoped=True),
    # Bearer tokens are not ambient credentials, so HTTP routes answer as for the admin;
    # the websocket, whose token may ride in the query string, refuses the origin.
    Caller(
        "admin from a foreign origin", ADMIN, "admin", origin=Origin("https://evil.example.com")
    ),
)
Expected = Literal["allowed", 401, 403]


def expected(caller: Caller, key: Key) -> Expected:
    guard = GUARDS[key]
    if guard == PUBLIC:
        return "allowed"
    if key[0] == WS:
        return "allowed" if caller.role is not None and caller.origin is None else 403
    if caller.role is None:
        return 401
    if caller.scoped and key == AGENCY_MAY_PUSH:
        return "allowed"
    return "allowed" if _RANK[caller.role] >= _RANK[guard] else 403


def app_routes(app: FastAPI) -> list[Key]:
    """(method, path) of every route; a websocket as (WS, path); HEAD only when alone."""
    keys: list[Key] = []
    for route in app.routes:
        if isinstance(route, WebSocketRoute):  # APIWebSocketRoute is one
            keys.append((WS, route.path))
        elif isinstance(route, Route):  # APIRoute is one
            methods = route.methods or set()
            keys += [
                (m, route.path) for m in sorted(methods) if m != "HEAD" or "GET" not in methods
            ]
        else:  # a Mount or anything new: it has to be thought about, so it is unlisted
            keys.append((type(route).__name__, getattr(route, "path", repr(route))))
    return keys


def unlisted(app: FastAPI) -> list[Key]:
    return [key for key in app_routes(app) if key not in GUARDS]


@dataclass(frozen=True)
class Resources:
    """Ids that make path parameters real: a firing alert, a silence, a window."""

    alert_id: int
    silence_id: int
    window_id: int

    def fill(self, path: str) -> str:
        values = {
            "endpoint_id": HANOI_ENDPOINT,
            "series_id": HANOI_SERIES,
            "alert_id": str(self.alert_id),
            "silence_id": str(self.silence_id),
            "window_id": str(self.window_id),
            "name": "wall.js",
        }
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)


@pytest.fixture(scope="module")
def resources(center: Running) -> Resources:
    alert_id = firing_alert(center)
    silence = center.call("POST", SILENCES, OPERATOR, BODIES[("POST", SILENCES)])
    window = center.call("POST", MAINTENANCE, ADMIN, BODIES[("POST", MAINTENANCE)])
    assert (silence.status, window.status) == (201, 201), (silence.body, window.body)
    return Resources(alert_id, silence.json()["id"], window.json()["id"])


def answer(center: Running, caller: Caller, key: Key, resources: Resources) -> int:
    """The status ``caller`` gets from route ``key`` (101 for an accepted websocket)."""
    method, path = key
    path = resources.fill(path)
    if method == WS:
        query = "" if caller.token is None else f"?token={caller.token}"
        try:
            with connect(center.ws + path + query, origin=caller.origin, open_timeout=5):
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code
    headers = None if caller.origin is None else {"Origin": str(caller.origin)}
    return center.call(method, path, caller.token, BODIES.get(key), headers).status


def meets(want: Expected, status: int) -> bool:
    if want == "allowed":
        return status not in (401, 403) and status < 500
    return status == want


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
def test_every_route_answers_each_caller_as_its_guard_says(
    center: Running, resources: Resources, caller: Caller
) -> None:
    wrong = []
    for key in app_routes(center.service.app):
        if key not in GUARDS:
            wrong.append(f"{key}: not in GUARDS; say which role it needs")
            continue
        want, status = expected(caller, key), answer(center, caller, key, resources)
        if not meets(want, status):
            wrong.append(f"{key[0]} {key[1]}: expected {want}, got {status}")
    assert wrong == []


def test_the_table_names_every_route_of_the_app_and_nothing_else(center: Running) -> None:
    routes = set(app_routes(center.service.app))
    assert sorted(routes - GUARDS.keys()) == [], "routes without an expected guard"
    assert sorted(GUARDS.keys() - routes) == [], "GUARDS entries the app no longer has"


def test_a_new_route_is_caught_until_the_table_names_its_guard(tmp_path: Path) -> None:
    app = new_service("postgresql://nobody@127.0.0.1:1/none", write_config(tmp_path)).app
    assert unlisted(app) == []

    @app.get("/api/v1/forgot-its-guard")
    async def forgot() -> dict[str, str]:
        return {}

    assert unlisted(app) == [("GET", "/api/v1/forgot-its-guard")]
