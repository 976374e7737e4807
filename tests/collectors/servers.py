"""Real servers on 127.0.0.1 ephemeral ports for the HTTP collector tests.

``serve_app`` runs a well-behaved aiohttp application (optionally over TLS);
``serve_raw`` runs a raw asyncio server around one of the hostile handlers below, for
behaviour no proper HTTP server would produce.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import cache
from time import perf_counter

from aiohttp import web

from collectors.http import HttpProber, ProbeSpec
from core.results import ProbeResult

GIB = 1024**3
BOMB_BYTES = 32 * 1024**2  # decompressed size of the gzip bomb
DRIP_INTERVAL = 0.2
JSON_DOC = {"status": {"db": "up", "replicas": 3, "primary": True}, "items": [1, 2]}
NON_UTF8_BODY = b"\xff\xfe caf\xe9 \x80 service ok"
# How much later than its deadline a probe may come back (scheduling, teardown).
DEADLINE_SLACK = 1.5


# --- helpers ---------------------------------------------------------------------------


async def probe_timed(prober: HttpProber, spec: ProbeSpec) -> tuple[ProbeResult, float]:
    """Run one probe; also return its wall duration in seconds."""
    started = perf_counter()
    result = await prober.probe(spec)
    return result, perf_counter() - started


# --- a well-behaved application ---------------------------------------------------------


@cache
def gzip_bomb() -> bytes:
    """``BOMB_BYTES`` zeros, gzip-compressed (about a thousandth of that on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    zeros = b"\0" * 1024**2
    parts = [compressor.compress(zeros) for _ in range(BOMB_BYTES // len(zeros))]
    return b"".join([*parts, compressor.flush()])


async def _text(request: web.Request) -> web.Response:
    return web.Response(text="hello, the service is ok")


async def _status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]), text="see status")


async def _json(request: web.Request) -> web.Response:
    return web.json_response(JSON_DOC)


async def _deep_json(request: web.Request) -> web.Response:
    # Valid-looking JSON nested far deeper than any parser's recursion limit.
    return web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json")


async def _non_utf8(request: web.Request) -> web.Response:
    return web.Response(body=NON_UTF8_BODY, content_type="text/plain")


async def _endless(request: web.Request) -> web.StreamResponse:
    """1 GiB of zeros, generated on the fly as a chunked stream."""
    response = web.StreamResponse()
    await response.prepare(request)
    chunk = b"\0" * 65536
    try:
        for _ in range(GIB // len(chunk)):
            await response.write(chunk)
    except ConnectionError:  # the client hung up, as it should
        pass
    return response


async def _gzip_bomb(request: web.Request) -> web.Response:
    return web.Response(
        body=gzip_bomb(),
        headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
    )


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


async def _loop(request: web.Request) -> web.Response:
    # /loop/a -> /loop/b -> /loop/a ...
    return _redirect("b" if request.match_info["name"] == "a" else "/loop/a")


async def _to_ftp(request: web.Request) -> web.Response:
    return _redirect("ftp://files.example/report.csv")


async def _chain(request: web.Request) -> web.Response:
    """/chain/N redirects (relatively) to /chain/N-1; /chain/0 is the destination."""
    left = int(request.match_info["n"])
    return web.Response(text="end of chain") if left == 0 else _redirect(str(left - 1))


def healthy_app() -> web.Application:
    """An application with one route per scenario that a real server could produce."""
    app = web.Application()
    app.router.add_get("/ok", _text)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/json", _json)
    app.router.add_get("/deep-json", _deep_json)
    app.router.add_get("/non-utf8", _non_utf8)
    app.router.add_get("/endless", _endless)
    app.router.add_get("/gzip-bomb", _gzip_bomb)
    app.router.add_get("/loop/{name}", _loop)
    app.router.add_get("/to-ftp", _to_ftp)
    app.router.add_get("/chain/{n}", _chain)
    return app


@asynccontextmanager
async def serve_app(
    app: web.Application, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """Serve ``app`` on an ephemeral port; yields the base URL (no trailing slash)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        port = runner.addresses[0][1]
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# --- raw servers for hostile behaviour -------------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    """A running raw server: its base URL, how many connections it accepted, and an
    event set on the first one."""

    url: str = ""
    accepted: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def serve_raw(handler: Handler) -> AsyncIterator[RawServer]:
    """Run ``handler`` for every connection; on exit, stop handlers still running."""
    info = RawServer()
    tasks: set[asyncio.Task[object]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        info.accepted += 1
        info.connected.set()
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the prober hung up; that is the point of most of these servers
        except asyncio.CancelledError:
            # Our own teardown. Finish normally: Python 3.11's start_server callback
            # calls task.exception() on the task, which raises for a cancelled one.
            pass
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    info.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield info
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept, read whatever comes, never send a byte; returns when the client hangs up."""
    await reader.read()


async def drip_feed_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Prompt headers, then a 1000-byte body at one byte per ``DRIP_INTERVAL``."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        writer.write(b".")
        await writer.drain()
        await asyncio.sleep(DRIP_INTERVAL)


async def drip_feed_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The status line and headers themselves, one byte per ``DRIP_INTERVAL``."""
    await _read_request(reader)
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 1000:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(DRIP_INTERVAL)


async def lying_length(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Claim 1000 bytes, send 5, close."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nshort")
    await writer.drain()


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the request and close without a word."""
    await _read_request(reader)


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the request, then abort the connection with a TCP RST."""
    await _read_request(reader)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer with something that is not HTTP."""
    await _read_request(reader)
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\nthis is not http\r\n\r\n")
    await writer.drain()


async def keep_alive_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer 200 to every request on the connection for as long as the client likes."""
    body = json.dumps({"ok": True}).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    while True:
        await _read_request(reader)
        writer.write(head.encode() + body)
        await writer.drain()


@contextmanager
def refusing_url() -> Iterator[str]:
    """A URL whose port is bound but not listening, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
