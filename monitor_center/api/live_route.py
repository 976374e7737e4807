"""``GET /ws/live?token=TOKEN&since=SEQ``: the live feed over a websocket.

Both checks run before the handshake is accepted, so a refused client never gets a frame:
closing before ``accept`` makes the server answer the upgrade with HTTP 403.

- The token (``?token=`` or ``Authorization: Bearer``) must be a configured API token,
  any role. An agency-scoped token sees only that agency's messages and snapshot entries.
- A request without an ``Origin`` header (a CLI, another service) is not a browser and
  is let through on its token. A browser's ``Origin`` must be the server's own origin
  (the ``Host`` it was sent to, e.g. the ``/wall`` page) or be listed in
  ``center.allowed_origins``; an empty list therefore admits the server's own pages only.
  Behind a proxy that rewrites ``Host``, list the public origin.

Then JSON text frames: a ``snapshot`` (or, with ``since``, the missed deltas), then every
delta in ``seq`` order; under uvicorn, a caught-up client's deltas are written by the hub
straight to its connection (``api/ws_direct.py``). Client frames are read and ignored (the
server caps them at ``MAX_FRAME_BYTES``); a client that keeps falling behind is closed with
1013.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from monitor_center.api.auth import Principal
from monitor_center.api.ws_direct import direct_sink
from monitor_center.live import Subscription, SubscriptionClosed

if TYPE_CHECKING:
    from monitor_center.api.app import AppContext

log = logging.getLogger(__name__)

LIVE_PATH = "/ws/live"
MAX_FRAME_BYTES = 64 * 1024
"""Largest client frame the server reads (uvicorn ``ws_max_size``); the feed is one-way."""
PING_INTERVAL_SECONDS = 20.0
PING_TIMEOUT_SECONDS = 20.0
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_INTERNAL_ERROR = 1011
# A stalled client cannot take a close frame either; give up on it after this long.
CLOSE_TIMEOUT_SECONDS = 5.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _HideQueryTokens(logging.Filter):
    """uvicorn, and websockets under it, log each handshake's path with its query string
    on ``uvicorn.error`` (``"WebSocket /ws/live?token=..." [accepted]``): the token is
    replaced with ``***`` before any handler sees the record."""

    _TOKEN = re.compile(r"([?&]token=)[^&\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self._TOKEN.sub(r"\1***", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._TOKEN.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


_HIDE_QUERY_TOKENS = _HideQueryTokens()


def add_live_route(app: FastAPI, ctx: AppContext) -> None:
    """Register ``/ws/live`` on ``app``, reading the hub and config from ``ctx``."""
    logging.getLogger("uvicorn.error").addFilter(_HIDE_QUERY_TOKENS)  # added once

    @app.websocket(LIVE_PATH)
    async def live_feed(websocket: WebSocket) -> None:
        principal = _admit(websocket, ctx)
        if principal is None or ctx.hub is None:
            await websocket.close(code=CLOSE_POLICY)  # before accept: HTTP 403
            return
        subscription = ctx.hub.subscribe(_since(websocket), agency=principal.agency)
        try:
            await websocket.accept()
            sink = direct_sink(websocket)
            if sink is not None:
                subscription.attach(sink)
            log.debug("live feed opened for token '%s'", principal.name)
            await _pump(websocket, subscription)
        finally:
            subscription.close()


def _admit(websocket: WebSocket, ctx: AppContext) -> Principal | None:
    """The caller, when its token and Origin are acceptable; None to refuse."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if not origin_allowed(origin, host, ctx.config.center.allowed_origins):
        log.info("live feed refused: origin %r not allowed", origin)
        return None
    token = websocket.query_params.get("token") or _bearer(websocket.headers.get("authorization"))
    principal = ctx.auth.authenticate(token) if token else None
    if principal is None:
        log.info("live feed refused: missing or invalid token")
    return principal


def _bearer(header: str | None) -> str | None:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _since(websocket: WebSocket) -> int | None:
    """``?since=SEQ``; anything unreadable means "start from a snapshot"."""
    try:
        return int(websocket.query_params["since"])
    except (KeyError, ValueError):
        return None


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """Whether a handshake with this ``Origin`` and ``Host`` may proceed (module docstring)."""
    if origin is None:
        return True
    own = _origin_key(origin)
    if own is None:  # "null" (sandboxed frames, file://) or garbage
        return False
    if any(_origin_key(a) == own for a in allowed):
        return True
    scheme, hostname, port = own
    served = _host_key(host, scheme)
    return served is not None and served == (hostname, port)


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with defaults filled in, for comparing origins."""
    try:
        parts = urlsplit(origin.strip())
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return scheme, parts.hostname.lower(), port


def _host_key(host: str | None, scheme: str) -> tuple[str, int] | None:
    if not host:
        return None
    key = _origin_key(f"{scheme}://{host}")
    return None if key is None else key[1:]


async def _pump(websocket: WebSocket, subscription: Subscription) -> None:
    """Send the feed and discard client frames until either side stops."""
    sender = asyncio.create_task(_send_all(websocket, subscription))
    reader = asyncio.create_task(_discard_incoming(websocket))
    dropped = asyncio.create_task(subscription.wait_closed())
    tasks = (sender, reader, dropped)
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    if reader.done() and not reader.cancelled() and reader.exception() is None:
        return  # the client left (or the server is shutting down): nothing to close
    failed = [o for o in outcomes if isinstance(o, Exception) and not _is_disconnect(o)]
    for error in failed:
        log.error("live feed send failed", exc_info=error)
    if subscription.dropped:
        log.info("live feed client kept falling behind; closing it with 1013")
        code = CLOSE_TRY_AGAIN_LATER
    else:
        code = CLOSE_INTERNAL_ERROR if failed else 1000
    with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError, TimeoutError):
        await asyncio.wait_for(websocket.close(code=code), CLOSE_TIMEOUT_SECONDS)


def _is_disconnect(error: Exception) -> bool:
    return isinstance(error, WebSocketDisconnect | SubscriptionClosed | OSError)


async def _send_all(websocket: WebSocket, subscription: Subscription) -> None:
    while True:
        await websocket.send_text(await subscription.get_text())


async def _discard_incoming(websocket: WebSocket) -> None:
    """Read and ignore client frames; return when the client disconnects."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
