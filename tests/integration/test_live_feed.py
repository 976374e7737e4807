"""The live feed against a real running center: refusals before the handshake, snapshot,
deltas, resume, agency scope, frame cap, and a stalled client that slows nobody."""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from monitor_center.api.live_route import origin_allowed
from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.running import Backend, loopback_backend, serving
from tests.waiting import wait_until

VIEWER = "wall-viewer-token-0123456789"
HANOI = "ha-noi-viewer-token-0123456789"
WALL_ORIGIN = "https://wall.example.gov.vn"
ENDPOINTS = {"ngsp-api", "ha-noi-portal"}
Message = dict[str, Any]


@dataclass
class Feed:
    service: Service
    backend: Backend
    base: str

    def url(self, token: str = VIEWER, since: int | None = None) -> str:
        ws = self.base.replace("http://", "ws://", 1)
        return f"{ws}/ws/live?token={token}" + ("" if since is None else f"&since={since}")

    def connect(self, url: str, **kwargs: Any) -> connect:
        return connect(url, proxy=None, open_timeout=5, **kwargs)


def _config_text(backend: Backend) -> str:
    return f"""
center:
  allowed_origins: ["{WALL_ORIGIN}"]
auth:
  tokens:
    - {{name: wall, token: {VIEWER}, role: viewer}}
    - {{name: ha-noi-wall, token: {HANOI}, role: viewer, agency: ha-noi}}
agencies:
  - {{id: ngsp, name: NGSP, kind: platform}}
  - {{id: ha-noi, name: "Hà Nội", kind: province, depends_on: [ngsp]}}
endpoints:
  - {{id: ngsp-api, agency: ngsp, url: "{backend.url}/ngsp", interval: 1s, timeout: 1s}}
  - {{id: ha-noi-portal, agency: ha-noi, url: "{backend.url}/ha-noi", interval: 1s,
      timeout: 1s}}
"""


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    async with loopback_backend() as state:
        yield state


@pytest.fixture
async def feed(db_url: str, backend: Backend) -> AsyncIterator[Feed]:
    config = parse_config_text(_config_text(backend), filename="live.yaml", env={})
    service = Service(Settings(database_url=SecretStr(db_url)), config)
    async with serving(service) as base:
        yield Feed(service, backend, base)


async def _receive(ws: ClientConnection, timeout: float = 5) -> Message:
    message: Message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def _until(
    ws: ClientConnection, wanted: Callable[[Message], bool], timeout: float = 5
) -> list[Message]:
    """Messages up to and including the first ``wanted`` one."""
    deadline = time.monotonic() + timeout
    seen: list[Message] = []
    while not seen or not wanted(seen[-1]):
        seen.append(await _receive(ws, max(deadline - time.monotonic(), 0.01)))
    return seen


def _is(endpoint: str, state: str) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "endpoint" and m["id"] == endpoint and m["state"] == state


async def _close_code(ws: ClientConnection, timeout: float = 5) -> int | None:
    """Read (and drop) whatever is left until the server closes; its close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code


async def _refused(feed: Feed, url: str, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with feed.connect(url, **kwargs):
            pass
    return refused.value.response.status_code


@pytest.mark.parametrize("token", ["", "not-a-configured-token-at-all"])
async def test_a_missing_or_wrong_token_is_refused_with_403_before_accept(
    feed: Feed, token: str
) -> None:
    assert await _refused(feed, feed.url(token=token)) == 403
    assert feed.service.hub.subscribers == 0


@pytest.mark.parametrize("origin", ["https://evil.example.com", "null", "http://127.0.0.1:1"])
async def test_a_foreign_browser_origin_is_refused_with_403_before_accept(
    feed: Feed, origin: str
) -> None:
    assert await _refused(feed, feed.url(), origin=Origin(origin)) == 403


async def test_the_servers_own_origin_a_listed_origin_and_no_origin_are_let_in(
    feed: Feed,
) -> None:
    for origin in (feed.base, WALL_ORIGIN, None):
        extra = {} if origin is None else {"origin": Origin(origin)}
        async with feed.connect(feed.url(), **extra) as ws:
            assert (await _receive(ws))["type"] == "snapshot"


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, None, True),
        ("https://Monitor.gov.vn", "monitor.gov.vn:443", True),
        ("http://[::1]:8080", "[::1]:8080", True),
        ("https://wall.example.gov.vn:443", "center.local", True),
        ("http://monitor.gov.vn", "monitor.gov.vn:8080", False),
        ("https://monitor.gov.vn.evil.com", "monitor.gov.vn", False),
        ("ws://monitor.gov.vn", "monitor.gov.vn", False),
        ("null", "monitor.gov.vn", False),
        ("http://monitor.gov.vn:99999", "monitor.gov.vn:99999", False),
    ],
)
def test_an_origin_is_the_servers_own_or_listed(
    origin: str | None, host: str | None, allowed: bool
) -> None:
    assert origin_allowed(origin, host, [WALL_ORIGIN]) is allowed


async def test_a_bearer_header_works_like_the_token_parameter(feed: Feed) -> None:
    url = feed.url().split("?")[0]
    headers = {"Authorization": f"Bearer {VIEWER}"}
    async with feed.connect(url, additional_headers=headers) as ws:
        assert (await _receive(ws))["type"] == "snapshot"


async def test_a_snapshot_then_an_endpoint_delta_when_it_fails_then_resume_with_since(
    feed: Feed,
) -> None:
    async with feed.connect(feed.url()) as ws:
        snapshot = await _receive(ws)
        assert snapshot["type"] == "snapshot" and isinstance(snapshot["seq"], int)
        assert {e["id"] for e in snapshot["endpoints"]} == ENDPOINTS
        assert {a["id"]: a["name"] for a in snapshot["agencies"]}["ha-noi"] == "Hà Nội"
        states = {e["id"]: e["state"] for e in snapshot["endpoints"]}
        if states["ha-noi-portal"] != "up":
            await _until(ws, _is("ha-noi-portal", "up"))
        feed.backend.failing.add("ha-noi")
        seen = await _until(ws, _is("ha-noi-portal", "down"))
        down = seen[-1]
        assert down["previous"] == "up" and down["reason"] == "status 503"
        assert down["agency"] == "ha-noi" and down["seq"] > snapshot["seq"]
        seqs = [snapshot["seq"]] + [m["seq"] for m in seen]
        assert seqs == sorted(set(seqs))
    missed_from = down["seq"]
    feed.backend.failing.clear()
    await wait_until(
        _view_is(feed, "ha-noi-portal", "up"), timeout=5, what="ha-noi-portal up again"
    )
    async with feed.connect(feed.url(since=missed_from)) as ws:
        first = await _receive(ws)
        assert first["type"] == "endpoint" and first["seq"] == missed_from + 1
        assert (first["id"], first["state"], first["previous"]) == ("ha-noi-portal", "up", "down")


def _view_is(feed: Feed, endpoint: str, state: str) -> Callable[[], Any]:
    async def check() -> bool:
        view = feed.service.states.view(endpoint)
        return view is not None and view.state == state

    return check


async def test_an_agency_token_sees_only_its_agency(feed: Feed) -> None:
    hub = feed.service.hub
    async with feed.connect(feed.url(token=HANOI)) as ws:
        snapshot = await _receive(ws)
        assert [e["id"] for e in snapshot["endpoints"]] == ["ha-noi-portal"]
        assert [a["id"] for a in snapshot["agencies"]] == ["ha-noi"]
        hub.publish({"type": "series", "id": "ngsp-tx", "agency": "ngsp", "value": 1})
        mine = hub.publish({"type": "series", "id": "ha-noi-tx", "agency": "ha-noi", "value": 2})
        seen = await _until(ws, lambda m: m["seq"] == mine)
        assert all(m["agency"] == "ha-noi" for m in seen)
        assert "ngsp-tx" not in {m["id"] for m in seen}


async def test_a_client_frame_over_64_kib_closes_the_connection(feed: Feed) -> None:
    async with feed.connect(feed.url()) as ws:
        await _receive(ws)
        await ws.send("x" * 1024)  # small frames are read and ignored
        await ws.send("x" * (64 * 1024 + 1))
        assert await _close_code(ws) == 1009


async def test_stopping_the_server_tells_live_clients_it_is_restarting(feed: Feed) -> None:
    async with feed.connect(feed.url()) as ws:
        await _receive(ws)
        feed.service.stop_serving()
        assert await _close_code(ws) == 1012  # "service restart": the wall reconnects
    await wait_until(_no_subscribers(feed), timeout=5, what="the subscription released")


def _no_subscribers(feed: Feed) -> Callable[[], Any]:
    async def check() -> bool:
        return feed.service.hub.subscribers == 0

    return check


async def _stalled_socket(feed: Feed) -> socket.socket:
    """A connected socket with a tiny receive buffer, so a client that stops reading
    pushes back on the server after a few kilobytes instead of megabytes."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    host, port = feed.base.removeprefix("http://").split(":")
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return sock


async def test_a_client_that_never_reads_does_not_delay_a_healthy_client(feed: Feed) -> None:
    hub, burst, limit = feed.service.hub, 20, 30_000
    padding = "0123456789abcdef" * 64  # 1 KiB, so the stalled socket fills quickly
    stalled_sock = await _stalled_socket(feed)
    async with (
        feed.connect(feed.url(), sock=stalled_sock, compression=None, max_queue=1) as stalled,
        feed.connect(feed.url(), compression=None) as healthy,
    ):
        assert (await _receive(healthy))["type"] == "snapshot"
        assert hub.subscribers == 2
        delays: list[float] = []
        received: list[int] = []
        published = 0

        async def read_healthy() -> None:
            while True:
                message = await _receive(healthy)
                assert message["type"] != "snapshot", "the healthy client was resynced"
                if message["type"] == "series" and message["id"] == "end":
                    return
                if message["type"] == "series" and message["id"] == "load":
                    received.append(message["n"])
                    delays.append(time.monotonic() - message["sent"])

        reader = asyncio.create_task(read_healthy())
        # Until the stalled client has overflowed its queue often enough to be dropped.
        while hub.subscribers == 2 and published < limit:
            for n in range(published, published + burst):
                load = {"type": "series", "id": "load", "agency": "ngsp", "n": n, "pad": padding}
                hub.publish(load | {"sent": time.monotonic()})
            published += burst
            await asyncio.sleep(0.01)  # under 2,000 messages/s, in bursts
        hub.publish({"type": "series", "id": "end", "agency": "ngsp"})
        assert hub.subscribers == 1, "the stalled client was never dropped"
        await asyncio.wait_for(reader, 30)
        assert received == list(range(published))
        p99 = statistics.quantiles(delays, n=100)[98]
        assert p99 <= 0.25, f"p99 delivery {p99 * 1000:.0f} ms"
        # Dropped for falling behind again and again, and told so once it reads again.
        assert await _close_code(stalled) == 1013


async def test_a_caught_up_clients_deltas_are_written_straight_to_its_connection(
    feed: Feed,
) -> None:
    registry, hub = feed.service.metrics.registry, feed.service.hub

    def sent(path: str) -> float:
        value = registry.get_sample_value("monitor_center_live_messages_sent_total", {"path": path})
        return value or 0.0

    async with feed.connect(feed.url(), compression=None) as ws:
        assert (await _receive(ws))["type"] == "snapshot"
        before = sent("direct")
        seqs = [hub.publish({"type": "series", "id": "d", "agency": "ngsp"}) for _ in range(50)]
        received: list[int] = []
        while len(received) < len(seqs):  # endpoint deltas from the probes may interleave
            message = await _receive(ws)
            if message.get("id") == "d":
                received.append(message["seq"])
        assert received == seqs
        # All of them, unless a probe's delta was in the reader's hands at that moment.
        assert sent("direct") - before >= 40
        assert registry.get_sample_value("monitor_center_live_clients") == 1
