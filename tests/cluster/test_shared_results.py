"""Three centers in one process on one database, a worker and two serve processes: a
serve takes the leader lease, every process shows every endpoint, an outage probed by
another process reaches the feed once and alerts once through the leader's engine, and the
other serve process answers the alert routes through the leader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from core.results import Latency, ProbeResult
from monitor_center.cluster.sharing import pack, result_row, unpack
from monitor_center.config import parse_config_text
from monitor_center.live import Subscription
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.running import Backend, loopback_backend, serving
from tests.waiting import wait_until

ENDPOINTS = [f"p{n}" for n in range(8)]
OPERATOR = "operator-token-0123456789"


def _config(backend: Backend) -> str:
    endpoints = "\n".join(
        f'  - {{id: {e}, agency: ngsp, url: "{backend.url}/{e}", interval: 1s, timeout: 500ms}}'
        for e in ENDPOINTS
    )
    return f"""
auth:
  tokens: [{{name: ops, token: {OPERATOR}, role: operator}}]
agencies:
  - {{id: ngsp, name: NGSP, kind: platform}}
endpoints:
{endpoints}
rules:
  - {{id: down, kind: endpoint_down, severity: critical, failures: 1}}
"""


@dataclass
class Trio:
    worker: Service
    serves: list[Service]
    urls: dict[int, str]
    backend: Backend

    @property
    def leader(self) -> Service:
        return next(s for s in self.serves if s.cluster.leading)

    @property
    def follower(self) -> Service:
        return next(s for s in self.serves if not s.cluster.leading)

    def url(self, service: Service) -> str:
        return self.urls[id(service)]


@pytest.fixture
async def trio(db_url: str) -> AsyncIterator[Trio]:
    """A worker, then two serve processes with their APIs, on one database and config."""
    settings = Settings(
        database_url=SecretStr(db_url),
        cluster_heartbeat_interval=0.2,
        cluster_lease_ttl=0.8,
        write_flush_interval=0.05,
    )
    async with loopback_backend() as backend, AsyncExitStack() as stack:
        config = parse_config_text(_config(backend), filename="fleet.yaml", env={})
        worker = Service(settings, config, role="worker")
        await worker.start()  # alone, it leads until a serve process joins
        stack.push_async_callback(worker.stop)
        serves = [Service(settings, config), Service(settings, config)]
        urls = {id(s): await stack.enter_async_context(serving(s)) for s in serves}
        trio = Trio(worker, serves, urls, backend)
        await wait_until(lambda: _settled(trio), timeout=10, what="shares and leadership")
        yield trio


async def _settled(trio: Trio) -> bool:
    processes = [trio.worker, *trio.serves]
    owned = [e for p in processes for e in ENDPOINTS if p.cluster.scheduled(e)]
    leaders = [p for p in processes if p.cluster.leading]
    return len(leaders) == 1 and leaders[0] in trio.serves and sorted(owned) == ENDPOINTS


def _probed_elsewhere(trio: Trio) -> str:
    """An endpoint a process other than the leader probes."""
    others = [p for p in (trio.worker, *trio.serves) if not p.cluster.leading]
    return next(e for e in ENDPOINTS if any(p.cluster.scheduled(e) for p in others))


def _states(service: Service) -> dict[str, str]:
    return {v.id: v.state for v in service.states.views()}


async def _drain(subscription: Subscription) -> list[dict[str, Any]]:
    found = []
    while True:
        try:
            found.append(await asyncio.wait_for(subscription.get(), 0.05))
        except TimeoutError:
            return found


async def _api(url: str, method: str = "GET", body: object = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json()


async def test_a_serve_process_leads_and_every_process_shows_every_endpoint(
    trio: Trio,
) -> None:
    assert trio.leader.alerting is not None
    assert trio.worker.alerting is None and trio.follower.alerting is None
    processes = (trio.leader, trio.worker, trio.follower)

    def gauge(name: str) -> list[float | None]:
        return [p.metrics.registry.get_sample_value(name) for p in processes]

    async def all_see_three() -> bool:
        return gauge("monitor_center_cluster_members") == [3.0, 3.0, 3.0]

    await wait_until(all_see_three, timeout=5, what="every process to count three members")
    assert gauge("monitor_center_cluster_leader") == [1.0, 0.0, 0.0]
    held = [
        p.metrics.registry.get_sample_value("monitor_center_cluster_endpoints_held")
        for p in (trio.worker, *trio.serves)
    ]
    assert sum(h or 0 for h in held) == len(ENDPOINTS)

    async def all_up_everywhere() -> bool:
        states = [set(_states(p).values()) for p in (trio.worker, *trio.serves)]
        return all(s == {"up"} for s in states)

    await wait_until(all_up_everywhere, timeout=10, what="every endpoint up in every process")


async def test_an_outage_probed_by_another_process_is_announced_once_and_alerts_once(
    trio: Trio,
) -> None:
    victim = _probed_elsewhere(trio)
    leader, follower = trio.leader, trio.follower

    async def up_in_leader() -> bool:
        return _states(leader).get(victim) == "up"

    await wait_until(up_in_leader, timeout=10, what="the victim up in the leader")
    feed = follower.hub.subscribe(since=follower.hub.seq)
    trio.backend.failing.add(victim)
    alerting = leader.alerting
    assert alerting is not None

    async def firing() -> bool:
        return any(
            a.subject == victim and a.state == "firing" for a in alerting.engine.open_alerts()
        )

    await wait_until(firing, timeout=10, what="the leader's alert to fire")
    # Two more probes of the failing endpoint: nothing new may be announced.
    since = datetime.now(UTC)
    await wait_until(
        lambda: _probed_since(trio, victim, since, 2), timeout=10, what="two more probes"
    )
    seen = await _drain(feed)
    downs = [m for m in seen if m["type"] == "endpoint" and m["id"] == victim]
    assert [(m["previous"], m["state"]) for m in downs] == [("up", "down")]
    fired = [m for m in seen if m["type"] == "alert" and m["subject"] == victim]
    assert [m["state"] for m in fired] == ["firing"]
    assert {_states(p)[victim] for p in (trio.worker, *trio.serves)} == {"down"}


async def test_a_serve_process_that_does_not_lead_answers_alert_routes_through_the_leader(
    trio: Trio,
) -> None:
    victim = _probed_elsewhere(trio)
    trio.backend.failing.add(victim)
    base = trio.url(trio.follower)

    async def listed() -> list[Any] | None:
        status, body = await _api(f"{base}/api/v1/alerts?state=firing")
        if status == 503:  # leadership moving (a loaded machine stalls a loop past a ttl)
            return None
        assert status == 200, body
        return [a for a in body if a["subject"] == victim] or None

    alert = (await wait_until(listed, timeout=10, what="the alert listed by the follower"))[0]
    status, acked = await _api(f"{base}/api/v1/alerts/{alert['id']}/ack", "POST", {})
    assert (status, acked["acknowledged_by"]) == (200, "ops")

    async def in_snapshot() -> bool:  # the leader's alert, in the follower's own snapshot
        subscription = trio.follower.hub.subscribe()
        try:
            first = await asyncio.wait_for(subscription.get(), 2)
        finally:
            subscription.close()
        return any(a["subject"] == victim for a in first["alerts"])

    await wait_until(in_snapshot, timeout=5, what="the alert in the follower's snapshot")


async def _probed_since(trio: Trio, endpoint: str, since: datetime, times: int) -> bool:
    for process in (trio.worker, *trio.serves):
        await process.writer.drained()
    recent = await trio.worker.results.recent(endpoint, limit=times)
    return len(recent) == times and all(r.time >= since for r in recent)


def test_results_travel_in_payloads_under_the_notification_limit_and_come_back_exact() -> None:
    now = datetime.now(UTC)
    results = [
        ProbeResult(
            f"tỉnh-{n}",
            now,
            n % 3 != 0,
            Latency(0.123456, 0.01, None, 0.1),
            status=200,
            reason=None if n % 3 else "status 503 — Hà Nội",
            cert_expiry_days=12.5,
        )
        for n in range(500)
    ]
    payloads = list(pack("member-1", [result_row(r) for r in results]))
    assert len(payloads) > 1
    assert all(len(p.encode()) < 8000 for p in payloads)
    back = [r for p in payloads for r in unpack(p)[1]]
    assert back == results
    assert {unpack(p)[0] for p in payloads} == {"member-1"}
