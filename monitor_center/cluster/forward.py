"""The alert routes of a serve process that does not lead, answered by the one that does.

The alert engine runs in the leader only; the other serve processes behind a load
balancer would answer ``/api/v1/alerts``, silences, maintenance and notifications with
503. This middleware forwards those requests (every route that depends on the alert
engine, found from the app's own routes, so a new alert route is covered by itself) to the
leader's API, as advertised in its heartbeat, with the caller's token; the leader checks
it as for any request. A forwarded request carries a marker and is never forwarded again.
Without a known leader URL (a worker leads, or leadership is moving) the route answers
503 as before.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import get_args

import aiohttp
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor_center.api.alert_routes import AlertingDep

log = logging.getLogger(__name__)

MARKER = "x-monitor-center-forwarded"
MAX_BODY_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 10.0
_KEPT_HEADERS = {"authorization", "content-type", "accept"}
# Not passed back: the connection's own, and what aiohttp undid (it decompresses).
_HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "server",
    "date",
}


def _needs_alerting(dependant: Dependant) -> bool:
    wanted = get_args(AlertingDep)[1].dependency
    stack = list(dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is wanted:
            return True
        stack.extend(dep.dependencies)
    return False


def alerting_routes(routes: Iterable[BaseRoute]) -> list[tuple[re.Pattern[str], set[str]]]:
    """(path pattern, methods) of every route that needs the alert engine."""
    return [
        (r.path_regex, set(r.methods or ()))
        for r in routes
        if isinstance(r, APIRoute) and _needs_alerting(r.dependant)
    ]


class LeaderForwarding:
    """ASGI middleware; ``local()`` says whether this process answers alert routes itself,
    ``leader_url()`` where the leader's API is (None when unknown)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        local: Callable[[], bool],
        leader_url: Callable[[], str | None],
        routes: Callable[[], Iterable[BaseRoute]],
    ) -> None:
        self.app = app
        self._local = local
        self._leader_url = leader_url
        self._routes = routes
        self._patterns: list[tuple[re.Pattern[str], set[str]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await _reply(send, 413, b'{"detail":"request body too large to forward"}')
            return
        await self._forward(scope, target, body, send)

    def _target(self, scope: Scope) -> str | None:
        """The leader's URL for this request, or None to answer it here."""
        if scope["type"] != "http" or self._local():
            return None
        headers = dict(scope.get("headers") or [])
        if MARKER.encode() in headers:
            return None
        if self._patterns is None:
            self._patterns = alerting_routes(self._routes())
        path, method = scope["path"], scope["method"]
        if not any(p.fullmatch(path) and method in m for p, m in self._patterns):
            return None
        return self._leader_url()

    async def _forward(self, scope: Scope, base: str, body: bytes, send: Send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        url = base.rstrip("/") + scope["path"] + (f"?{query}" if query else "")
        headers = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope.get("headers") or []
            if k.decode("latin-1").lower() in _KEPT_HEADERS
        }
        headers[MARKER] = "1"
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.request(scope["method"], url, data=body, headers=headers) as resp,
            ):
                payload = await resp.read()
                kept = [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in resp.headers.items()
                    if k.lower() not in _HOP_HEADERS
                ]
                await _reply(send, resp.status, payload, kept)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("cluster: the leader's API at %s did not answer: %s", base, exc)
            await _reply(send, 503, b'{"detail":"alerting runs in another process, unreachable"}')


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _reply(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    kept = headers if headers is not None else [(b"content-type", b"application/json")]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*kept, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
