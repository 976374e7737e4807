"""Helpers for tests that run the center: a free loopback port, a started, serving service,
and monitored endpoints on loopback that a test can make fail."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from monitor_center.service import Service
from tests.waiting import wait_until


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(service: Service) -> AsyncIterator[str]:
    """Start ``service`` and its API on a free port; yield the base URL once it listens."""
    await service.start()
    port = free_port()
    server = asyncio.create_task(service.serve("127.0.0.1", port))

    async def listening() -> bool:
        if server.done():
            server.result()  # raises what stopped the server from starting
        return service.serving

    try:
        await wait_until(listening, timeout=10, what="the API to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        service.stop_serving()
        await server
        await service.stop()


@dataclass
class Backend:
    """Monitored endpoints on loopback: ``GET {url}/{name}`` answers 200, or 503 while
    ``name`` is in ``failing``."""

    url: str = ""
    failing: set[str] = field(default_factory=set)


@asynccontextmanager
async def loopback_backend() -> AsyncIterator[Backend]:
    """A running ``Backend``; its server stops when the block ends."""
    state = Backend()

    async def handle(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.Response(status=503 if name in state.failing else 200, text=name)

    app = web.Application()
    app.router.add_get("/{name}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()
