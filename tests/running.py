"""Helpers for tests that run the center: a free loopback port, a started, serving service."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
