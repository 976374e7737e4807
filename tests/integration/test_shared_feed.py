"""One live feed across processes on one database (PostgreSQL LISTEN/NOTIFY): two running
centers deliver the same events to their clients; the bridge's catch-up, pruning,
start-up ring, divergence healing and local fallback; the hub's numbering from outside."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect

from monitor_center.config import parse_config_text
from monitor_center.db import open_pool
from monitor_center.live import Hub, SharedFeed, Subscription
from monitor_center.live.bridge import NOTIFY_MAX_BYTES, notify_payload, parse_payload
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.running import Backend, free_port, loopback_backend, serving
from tests.waiting import wait_until

VIEWER = "shared-wall-token-0123456789"
Message = dict[str, Any]


# The hub numbered from outside ------------------------------------------------------


def _event(name: str, agency: str = "ngsp") -> Message:
    return {"type": "series", "id": name, "agency": agency}


async def _read(subscription: Subscription, count: int) -> list[Message]:
    return [await asyncio.wait_for(subscription.get(), 2) for _ in range(count)]


async def test_the_hub_takes_a_given_higher_seq_and_refuses_a_lower_one() -> None:
    hub = Hub(first_seq=10)
    assert hub.publish(_event("a"), seq=15) == 15
    assert hub.publish(_event("b")) == 16
    with pytest.raises(ValueError, match="not above"):
        hub.publish(_event("c"), seq=16)
    assert hub.seq == 16


async def test_resuming_across_gaps_replays_every_message_numbered_after_since() -> None:
    hub = Hub(first_seq=0, ring_size=3)
    for seq in (10, 20, 30, 40):  # 10 falls out of the ring
        hub.publish(_event(f"e{seq}"), seq=seq)
    assert [m["seq"] for m in await _read(hub.subscribe(since=25), 2)] == [30, 40]
    assert [m["seq"] for m in await _read(hub.subscribe(since=10), 3)] == [20, 30, 40]
    first = await hub.subscribe(since=9).get()  # 10 is gone: a snapshot
    assert (first["type"], first["seq"]) == ("snapshot", 40)


async def test_a_resync_sends_every_subscriber_a_snapshot_and_empties_the_ring() -> None:
    hub = Hub(first_seq=0)
    subscription = hub.subscribe(since=0)
    hub.publish(_event("queued"))
    hub.resync(100)
    first = await subscription.get()
    assert (first["type"], first["seq"]) == ("snapshot", 100)
    assert (await hub.subscribe(since=1).get())["type"] == "snapshot"
    with pytest.raises(ValueError, match="subscribed"):
        hub.resync(50)


def test_a_notification_carries_the_message_only_when_it_fits() -> None:
    assert parse_payload(notify_payload(3, 42, '{"a":"Hà Nội"}')) == (3, 42, '{"a":"Hà Nội"}')
    big = json.dumps({"pad": "ệ" * NOTIFY_MAX_BYTES})
    assert parse_payload(notify_payload(4, 43, big)) == (4, 43, None)


# Two running centers on one database ------------------------------------------------


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    async with loopback_backend() as state:
        yield state


def _config_text(backend: Backend, probes: bool) -> str:
    """Both centers know the agencies; only the one with ``probes`` watches an endpoint."""
    endpoints = f"""
endpoints:
  - {{id: ha-noi-portal, agency: ha-noi, url: "{backend.url}/ha-noi", interval: 1s}}
rules:
  - {{id: down, kind: endpoint_down, severity: critical, failures: 1}}
"""
    return f"""
auth:
  tokens:
    - {{name: wall, token: {VIEWER}, role: viewer}}
agencies:
  - {{id: ngsp, name: NGSP, kind: platform}}
  - {{id: ha-noi, name: "Hà Nội", kind: province, depends_on: [ngsp]}}
{endpoints if probes else ""}
"""


@dataclass
class Pair:
    a: Service
    b: Service
    urls: dict[str, str]
    backend: Backend

    def ws(self, name: str, since: int | None = None) -> connect:
        base = self.urls[name].replace("http://", "ws://", 1)
        query = f"?token={VIEWER}" + ("" if since is None else f"&since={since}")
        return connect(f"{base}/ws/live{query}", proxy=None, open_timeout=5)


@pytest.fixture
async def pair(db_url: str, backend: Backend) -> AsyncIterator[Pair]:
    """Two centers, each with its own pool and listener, on one database."""
    services: dict[str, Service] = {}
    for name, probes in (("a", True), ("b", False)):
        text = _config_text(backend, probes)
        config = parse_config_text(text, filename=f"{name}.yaml", env={})
        settings = Settings(database_url=SecretStr(db_url), rule_eval_interval=0.5)
        services[name] = Service(settings, config)
    async with AsyncExitStack() as stack:
        urls = {n: await stack.enter_async_context(serving(s)) for n, s in services.items()}
        yield Pair(services["a"], services["b"], urls, backend)


async def _receive(ws: ClientConnection, timeout: float = 5) -> Message:
    message: Message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def _until(ws: ClientConnection, wanted: Callable[[Message], bool]) -> list[Message]:
    """Messages up to and including the first ``wanted`` one."""
    seen = [await _receive(ws)]
    while not wanted(seen[-1]):
        seen.append(await _receive(ws))
    return seen


def _marker(name: str) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "series" and m["id"] == name


async def _between(ws: ClientConnection, start: str, end: str) -> list[Message]:
    """The messages after marker ``start`` up to and including marker ``end``."""
    await _until(ws, _marker(start))
    return await _until(ws, _marker(end))


async def test_an_outage_seen_by_one_process_reaches_the_clients_of_both_once(
    pair: Pair,
) -> None:
    async def a_sees_up() -> bool:
        view = pair.a.states.view("ha-noi-portal")
        return view is not None and view.state == "up"

    await wait_until(a_sees_up, timeout=10, what="ha-noi-portal up")
    async with pair.ws("a") as on_a, pair.ws("b") as on_b:
        assert (await _receive(on_a))["type"] == (await _receive(on_b))["type"] == "snapshot"
        pair.a.feed.publish(_event("start"))
        await _until(on_a, _marker("start"))
        pair.backend.failing.add("ha-noi")
        seen_a = await _until(on_a, lambda m: m["type"] == "alert" and m["state"] == "firing")
        pair.b.feed.publish(_event("end"))  # published by B, after A's events
        seen_a += await _until(on_a, _marker("end"))
        seen_b = await _between(on_b, "start", "end")
    assert seen_a == seen_b, "both processes deliver the same messages, same seqs, same order"
    downs = [m for m in seen_a if m["type"] == "endpoint" and m["state"] == "down"]
    assert [(m["id"], m["previous"], m["reason"]) for m in downs] == [
        ("ha-noi-portal", "up", "status 503")
    ]
    assert any(m["type"] == "alert" and m["state"] == "firing" for m in seen_a)
    seqs = [m["seq"] for m in seen_a]
    assert seqs == sorted(set(seqs))


async def _until_missed(ws: ClientConnection) -> list[dict[str, Any]]:
    """Messages up to and including the third ``missed-*`` event."""
    seen: list[dict[str, Any]] = []
    while sum(str(m.get("id")).startswith("missed-") for m in seen) < 3:
        seen.append(await _receive(ws))
    return seen


async def test_a_client_resumes_on_the_other_process_with_a_seq_from_the_first(
    pair: Pair,
) -> None:
    async with pair.ws("a") as on_a:
        await _receive(on_a)
        pair.a.feed.publish(_event("seen"))
        last_seen = int((await _until(on_a, _marker("seen")))[-1]["seq"])

    async def b_has_it() -> bool:  # a replica that has not heard of SEQ yet sends a snapshot
        return pair.b.hub.seq >= last_seen

    await wait_until(b_has_it, timeout=5, what="B to receive the event")
    for name, service in (("missed-1", pair.a), ("missed-2", pair.b), ("missed-3", pair.a)):
        service.feed.publish(_event(name))
    async with pair.ws("b", since=last_seen) as on_b, pair.ws("a", since=last_seen) as again:
        replay_b = await _until_missed(on_b)
        replay_a = await _until_missed(again)
    # Two processes publishing at once have no order between them, only one shared one
    # (an endpoint's state change may be among them: the processes are probing).
    ids = [m["id"] for m in replay_b if m["id"].startswith("missed-")]
    assert sorted(ids) == ["missed-1", "missed-2", "missed-3"]
    assert ids.index("missed-1") < ids.index("missed-3")
    assert replay_b == replay_a


async def _terminate(db_url: str, pid: int | None) -> None:
    assert pid is not None
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def _all_of(ws: ClientConnection) -> list[Message]:
    """The messages after marker ``start`` until both ``end-a`` and ``end-b`` came."""
    await _until(ws, _marker("start"))
    seen: list[Message] = []
    while {"end-a", "end-b"} - {m["id"] for m in seen}:
        seen.append(await _receive(ws))
    return seen


async def test_a_killed_listener_reconnects_and_its_clients_lose_nothing(
    pair: Pair, db_url: str
) -> None:
    async with pair.ws("b") as on_b, pair.ws("a") as on_a:
        await _receive(on_b)
        await _receive(on_a)
        pair.a.feed.publish(_event("start"))
        killed = {"a": pair.a.feed.listener_pid, "b": pair.b.feed.listener_pid}
        await _terminate(db_url, killed["b"])
        await _terminate(db_url, killed["a"])
        for n in range(30):  # from both sides while their listeners are down
            (pair.a if n % 2 else pair.b).feed.publish(_event(f"n{n}") | {"n": n})
        pair.a.feed.publish(_event("end-a"))
        pair.b.feed.publish(_event("end-b"))
        seen_b, seen_a = await _all_of(on_b), await _all_of(on_a)
    numbers = [m["n"] for m in seen_b if "n" in m]
    assert sorted(numbers) == list(range(30)), "each event once"
    assert [n for n in numbers if n % 2] == list(range(1, 30, 2)), "A's events in A's order"
    assert [n for n in numbers if not n % 2] == list(range(0, 30, 2)), "B's in B's order"
    assert seen_a == seen_b
    assert pair.a.feed.listener_pid not in (None, killed["a"])
    assert pair.b.feed.listener_pid not in (None, killed["b"])


# The bridge on its own ------------------------------------------------------------------


@asynccontextmanager
async def _process(db_url: str, **options: Any) -> AsyncIterator[SharedFeed]:
    """A hub and its shared feed with a pool of their own, like one serve process."""
    pool = await open_pool(db_url, min_size=1, max_size=3)
    feed = SharedFeed(Hub(first_seq=0), db_url, **options)
    try:
        await feed.start(pool)
        assert feed.shared
        yield feed
    finally:
        await feed.stop()
        await pool.close()


async def test_an_event_too_big_for_a_notification_comes_from_the_table(db_url: str) -> None:
    big = _event("big") | {"pad": "Hà Nội " * 2_000}
    async with _process(db_url) as x, _process(db_url) as y:
        subscription = y.hub.subscribe(since=y.hub.seq)
        x.publish(big)
        x.publish(_event("small"))
        got = await _read(subscription, 2)
    assert got[0] == big | {"seq": got[0]["seq"]}
    assert got[1]["seq"] == got[0]["seq"] + 1


async def test_a_listener_down_longer_than_the_table_keeps_resyncs_its_clients(
    db_url: str,
) -> None:
    async with (
        _process(db_url, keep=20) as x,
        _process(db_url, retry_initial=1.0) as y,
    ):
        subscription = y.hub.subscribe(since=y.hub.seq)
        await _terminate(db_url, y.listener_pid)
        for n in range(100):
            x.publish(_event(f"n{n}"))
        await wait_until(lambda: _lowest_n(db_url), timeout=5, what="old events pruned")
        # The snapshot, taken when read, covers what the catch-up delivered after it.
        snapshot = await asyncio.wait_for(subscription.get(), 5)
        assert snapshot["type"] == "snapshot"
        x.publish(_event("after"))
        after = await _read(subscription, 1)
    assert after[0]["id"] == "after" and after[0]["seq"] > snapshot["seq"]


async def _lowest_n(db_url: str) -> bool:
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        cur = await conn.execute("SELECT min(n) FROM live_events")
        row = await cur.fetchone()
    return row is not None and row[0] is not None and row[0] > 1


async def test_a_starting_process_can_replay_what_was_published_before_it(db_url: str) -> None:
    async with _process(db_url) as x:
        x.publish(_event("before-0"))
        x.publish(_event("before-1"))
        subscription = x.hub.subscribe(since=x.hub.seq)
        first, second = await _read(subscription, 2)
        async with _process(db_url) as late:
            replay = await _read(late.hub.subscribe(since=first["seq"] - 1), 2)
    assert replay == [first, second]


async def test_a_hub_numbered_ahead_gets_later_events_in_order_and_heals(db_url: str) -> None:
    async with _process(db_url) as x, _process(db_url) as y:
        on_y = y.hub.subscribe(since=y.hub.seq)
        ahead = y.hub.publish(_event("straight-to-the-hub"))
        y.hub.publish(_event("again"))
        x.publish(_event("shared-1"))
        x.publish(_event("shared-2"))
        seen = await _read(on_y, 4)
        await wait_until(lambda: _head_at_least(db_url, y.hub.seq), timeout=5, what="head raised")
        on_x = x.hub.subscribe(since=x.hub.seq)
        x.publish(_event("shared-3"))
        healed_y, healed_x = await _read(on_y, 1), await _read(on_x, 1)
    assert [m["id"] for m in seen][2:] == ["shared-1", "shared-2"]
    assert [m["seq"] for m in seen] == list(range(ahead, ahead + 4))
    # The head was raised past y's numbers: the next event has one seq everywhere again.
    assert healed_y == healed_x
    assert healed_y[0]["seq"] > seen[-1]["seq"]


async def _head_at_least(db_url: str, seq: int) -> bool:
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        cur = await conn.execute("SELECT seq FROM live_feed_head")
        row = await cur.fetchone()
    return row is not None and int(row[0]) >= seq


async def test_with_the_database_unreachable_local_clients_still_get_their_events() -> None:
    dead = f"postgresql://127.0.0.1:{free_port()}/nowhere?connect_timeout=1"
    pool = AsyncConnectionPool(dead, min_size=1, max_size=1, open=False)
    await pool.open(wait=False)
    feed = SharedFeed(Hub(first_seq=0), dead, timeout=0.3, retry_max=0.5)
    try:
        await feed.start(pool)
        assert not feed.shared
        subscription = feed.hub.subscribe(since=0)
        feed.publish(_event("local-1"))
        feed.publish(_event("local-2"))
        got = await _read(subscription, 2)
    finally:
        await feed.stop()
        await pool.close()
    assert [(m["id"], m["seq"]) for m in got] == [("local-1", 1), ("local-2", 2)]


async def test_before_start_or_when_not_shared_publishing_stays_in_the_process() -> None:
    feed = SharedFeed(Hub(first_seq=7), "postgresql://127.0.0.1:1/never-used")
    feed.publish(_event("here"))
    assert feed.hub.seq == 8 and not feed.shared
    with pytest.raises(ValueError, match="delta type"):
        feed.publish({"type": "snapshot"})


class _Proxy:
    """A TCP relay to the database that can be cut (open connections reset, new ones
    refused) and restored: a process losing the database while the others keep it."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._cut = False
        self._writers: list[asyncio.StreamWriter] = []
        self.port = free_port()

    async def __aenter__(self) -> _Proxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        self._server.close()

    def cut(self) -> None:
        self._cut = True
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self._cut = False

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers += [writer, up_writer]
        await asyncio.gather(
            _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def test_a_process_cut_off_from_the_database_feeds_its_clients_then_shares_again(
    db_url: str,
) -> None:
    params = conninfo_to_dict(db_url)
    host, port = str(params.get("host", "127.0.0.1")), int(str(params.get("port", 5432)))
    async with _Proxy(host, port) as proxy:
        via_proxy = make_conninfo(db_url, host="127.0.0.1", port=proxy.port)
        async with (
            _process(via_proxy, timeout=1.0, retry_max=0.5) as cut,
            _process(db_url) as other,
        ):
            on_cut = cut.hub.subscribe(since=cut.hub.seq)
            on_other = other.hub.subscribe(since=other.hub.seq)
            proxy.cut()
            cut.publish(_event("while-cut"))
            local = await _read(on_cut, 1)
            assert not cut.shared
            proxy.restore()

            async def shared_again() -> bool:
                return cut.shared

            await wait_until(shared_again, timeout=10, what="the feed shared again")
            cut.publish(_event("after"))
            after_cut, after_other = await _read(on_cut, 1), await _read(on_other, 1)
    assert local[0]["id"] == "while-cut"
    assert after_other == after_cut, "the other process never saw the local event"
    assert after_cut[0]["id"] == "after" and after_cut[0]["seq"] > local[0]["seq"]
