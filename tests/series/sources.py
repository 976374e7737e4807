"""A loopback HTTP server standing in for agencies' JSON and Prometheus endpoints.

Each path answers what the test put there: a body, a content type, a status and an
optional delay; tests change the answers while the server runs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Answer:
    body: bytes
    content_type: str = "application/json"
    status: int = 200
    delay: float = 0.0


@dataclass
class Sources:
    """The server's base URL and what each path answers (404 for unknown paths)."""

    url: str = ""
    answers: dict[str, Answer] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def json(self, path: str, document: object, *, status: int = 200, delay: float = 0.0) -> str:
        """Serve ``document`` as JSON at ``path``; return the full URL."""
        return self.raw(path, json.dumps(document).encode(), status=status, delay=delay)

    def text(self, path: str, text: str, content_type: str, *, status: int = 200) -> str:
        """Serve ``text`` with ``content_type`` at ``path``; return the full URL."""
        return self.raw(path, text.encode(), content_type=content_type, status=status)

    def raw(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/json",
        status: int = 200,
        delay: float = 0.0,
    ) -> str:
        """Serve ``body`` at ``path``; return the full URL."""
        self.answers[path] = Answer(body, content_type, status, delay)
        return self.url + path


@asynccontextmanager
async def serve_sources() -> AsyncIterator[Sources]:
    """Run a :class:`Sources` server on 127.0.0.1 and an ephemeral port."""
    sources = Sources()

    async def handle(request: web.Request) -> web.Response:
        path = request.path
        sources.hits[path] = sources.hits.get(path, 0) + 1
        answer = sources.answers.get(path)
        if answer is None:
            return web.Response(status=404, text="not found")
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return web.Response(
            status=answer.status, body=answer.body, headers={"Content-Type": answer.content_type}
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sources.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield sources
    finally:
        await runner.cleanup()
