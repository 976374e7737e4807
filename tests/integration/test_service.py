"""The center end to end: the simulated fleet probed, stored, served over real HTTP."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import psycopg
import pytest
from pydantic import SecretStr

from core.clock import FrozenClock
from core.results import Latency, ProbeResult
from monitor_center.config import Config, parse_config_text
from monitor_center.db import open_pool
from monitor_center.db.repositories import ProbeResultRepository
from monitor_center.demo.agencies import load_agencies
from monitor_center.demo.faults import Fault
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.fleet_config import fleet_config_yaml
from monitor_center.probe_workers import ProbeWorkerPool, shard
from monitor_center.scheduling import Target
from monitor_center.service import Service
from monitor_center.settings import Settings
from monitor_center.targets import probe_spec
from tests.running import serving
from tests.waiting import wait_until

VIEWER = "viewer-token-0123456789"
OPERATOR = "operator-token-0123456789"
ADMIN = "admin-token-0123456789abc"
INTERVAL = 1.0


def _small_fleet() -> list[Any]:
    agencies = load_agencies()
    wanted = {"ngsp", "dvcqg", "csdldc", "btc", "ha-noi", "nghe-an"}
    return [a for a in agencies if a.id in wanted or a.kind == "platform"]


def _config(fleet: FleetSimulator, agencies: list[Any]) -> Config:
    text = fleet_config_yaml(
        fleet.endpoints(),
        agencies,
        interval=f"{INTERVAL:g}s",
        timeout="0.8s",
        viewer_token=VIEWER,
        operator_token=OPERATOR,
        admin_token=ADMIN,
    )
    return parse_config_text(text, filename="fleet.yaml", env={})


@dataclass
class Center:
    service: Service
    fleet: FleetSimulator
    base: str
    http: aiohttp.ClientSession

    async def get(self, path: str, token: str | None = VIEWER) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.get(self.base + path, headers=headers) as resp:
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.text()

    async def states(self) -> dict[str, dict[str, Any]]:
        status, body = await self.get("/api/v1/endpoints")
        assert status == 200
        return {e["id"]: e for e in body}


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    agencies = _small_fleet()
    async with FleetSimulator(agencies, seed=7, latency_scale=0.0) as fleet:
        config = _config(fleet, agencies)
        service = Service(Settings(database_url=SecretStr(db_url)), config)
        async with serving(service) as base, aiohttp.ClientSession() as http:
            yield Center(service, fleet, base, http)


async def _all_up(c: Center) -> dict[str, dict[str, Any]] | None:
    states = await c.states()
    return states if all(e["state"] == "up" for e in states.values()) else None


async def test_the_fleet_turns_up_and_results_are_stored(center: Center) -> None:
    states = await wait_until(lambda: _all_up(center), timeout=3 * INTERVAL + 2, what="all up")
    assert len(states) == len(center.fleet.endpoints())
    ngsp = states["ngsp-api"]
    assert ngsp["agency"] == "ngsp" and ngsp["latency_ms"] > 0 and ngsp["status"] == 200
    assert ngsp["last_checked"] is not None and ngsp["reason"] is None
    await center.service.writer.drained()
    assert await center.service.results.count() >= len(states)


async def test_an_injected_fault_turns_the_endpoint_down_within_two_intervals(
    center: Center,
) -> None:
    await wait_until(lambda: _all_up(center), timeout=3 * INTERVAL + 2, what="all up")
    center.fleet.set_fault("ngsp-portal", Fault("down", status=503))
    started = time.monotonic()

    async def ngsp_down() -> dict[str, Any] | None:
        e = (await center.states())["ngsp-portal"]
        return e if e["state"] == "down" else None

    down = await wait_until(ngsp_down, timeout=2 * INTERVAL + 1.5, what="ngsp-portal down")
    assert time.monotonic() - started <= 2 * INTERVAL + 1.0
    assert down["reason"] == "status 503"
    others = await center.states()
    assert all(e["state"] == "up" for i, e in others.items() if i != "ngsp-portal")


async def test_metrics_count_probe_results_by_outcome(center: Center) -> None:
    await wait_until(lambda: _all_up(center), timeout=3 * INTERVAL + 2, what="all up")
    status, text = await center.get("/metrics", token=None)
    assert status == 200
    assert 'monitor_center_probe_results_total{outcome="success"}' in text
    assert "monitor_center_probe_duration_seconds_bucket" in text
    assert 'monitor_center_endpoint_up{agency="ngsp",endpoint="ngsp-portal"} 1.0' in text


async def test_agencies_report_their_worst_endpoint(center: Center) -> None:
    await wait_until(lambda: _all_up(center), timeout=3 * INTERVAL + 2, what="all up")
    center.fleet.set_fault("ngsp-api", Fault("wrong_content"))

    async def ngsp_down() -> dict[str, Any] | None:
        _, agencies = await center.get("/api/v1/agencies")
        ngsp = next(a for a in agencies if a["id"] == "ngsp")
        return ngsp if ngsp["state"] == "down" else None

    ngsp = await wait_until(ngsp_down, timeout=2 * INTERVAL + 1.5, what="ngsp agency down")
    assert ngsp["endpoints_total"] == 2 and ngsp["endpoints_up"] == 1


async def test_a_restarted_center_shows_stale_endpoints_as_unknown(db_url: str) -> None:
    agencies = _small_fleet()
    async with FleetSimulator(agencies, seed=7, latency_scale=0.0) as fleet:
        config = _config(fleet, agencies)
    long_ago = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    pool = await open_pool(db_url, min_size=1, max_size=2)
    try:
        await ProbeResultRepository(pool).insert_many(
            [
                ProbeResult(e.id, long_ago, True, Latency(total=0.01), status=200)
                for e in config.endpoints
            ]
        )
    finally:
        await pool.close()
    fresh_clock = FrozenClock(long_ago + timedelta(seconds=1.5 * INTERVAL))
    stale_clock = FrozenClock(long_ago + timedelta(seconds=2.5 * INTERVAL))
    for clock, expected in ((fresh_clock, "up"), (stale_clock, "unknown")):
        service = Service(Settings(database_url=SecretStr(db_url)), config, clock=clock)
        await service.start()
        try:
            assert {v.state for v in service.states.views()} == {expected}
        finally:
            await service.stop()


@pytest.mark.parametrize(
    ("token", "expected"),
    [(None, 401), ("not-a-real-token-at-all", 401), (VIEWER, 200), (OPERATOR, 200), (ADMIN, 200)],
)
async def test_the_endpoints_route_needs_a_valid_token(
    center: Center, token: str | None, expected: int
) -> None:
    status, body = await center.get("/api/v1/endpoints", token=token)
    assert status == expected
    assert VIEWER not in str(body) and ADMIN not in str(body)


async def test_the_catalogue_in_the_database_matches_the_config(
    center: Center, db_url: str
) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT e.id, a.kind FROM endpoints e JOIN agencies a ON a.id = e.agency_id"
            " WHERE e.active"
        ).fetchall()
    assert {r[0] for r in rows} == {e.id for e in center.service.config.endpoints}
    assert {r[1] for r in rows} == {"platform", "ministry", "province"}


async def test_worker_processes_probe_every_endpoint_and_lose_no_result(db_url: str) -> None:
    agencies = _small_fleet()
    async with FleetSimulator(agencies, seed=7, latency_scale=0.0) as fleet:
        config = _config(fleet, agencies)
        settings = Settings(database_url=SecretStr(db_url), probe_workers=2)
        service = Service(settings, config)
        await service.start()
        try:

            async def all_up() -> bool:
                return {v.state for v in service.states.views()} == {"up"}

            await wait_until(all_up, timeout=3 * INTERVAL + 5, what="all up via workers")
            fleet.set_fault("ngsp-portal", Fault("down", status=503))

            async def ngsp_down() -> bool:
                view = service.states.view("ngsp-portal")
                return view is not None and view.state == "down"

            await wait_until(ngsp_down, timeout=2 * INTERVAL + 1.5, what="ngsp-portal down")
        finally:
            await service.stop()
        registry = service.metrics.registry
        produced = sum(
            registry.get_sample_value("monitor_center_probe_results_total", {"outcome": o}) or 0
            for o in ("success", "failure")
        )
        with psycopg.connect(db_url) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT endpoint_id) FROM probe_results")
            stored, endpoints = row.fetchone() or (0, 0)
        assert stored == produced > 0
        assert endpoints == len(config.endpoints)


async def test_a_killed_probe_worker_is_restarted_and_its_shard_probed_again(
    db_url: str,
) -> None:
    agencies = _small_fleet()
    async with FleetSimulator(agencies, seed=7, latency_scale=0.0) as fleet:
        config = _config(fleet, agencies)
        service = Service(Settings(database_url=SecretStr(db_url), probe_workers=2), config)
        await service.start()
        try:
            pool = service.scheduler
            assert isinstance(pool, ProbeWorkerPool)
            first = [
                t.spec.endpoint_id
                for t in shard([Target(probe_spec(e), 1.0) for e in config.endpoints], 2)[0]
            ]
            assert first, "shard 0 has endpoints"
            victim = pool.pids[0]
            assert victim is not None
            os.kill(victim, signal.SIGKILL)
            killed_at = datetime.now(UTC)

            async def shard_probed_again() -> bool:
                views = [service.states.view(e) for e in first]
                return all(
                    v is not None and v.last_checked is not None and v.last_checked > killed_at
                    for v in views
                )

            await wait_until(shard_probed_again, timeout=10, what="shard 0 probed after SIGKILL")
            assert pool.pids[0] not in (None, victim)
        finally:
            await service.stop()


async def test_healthz_reports_the_database_and_the_write_queue(center: Center) -> None:
    status, body = await center.get("/healthz", token=None)
    assert status == 200
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["endpoints"] == len(center.service.config.endpoints)
    assert body["write_queue"] >= 0
