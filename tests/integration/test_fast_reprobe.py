"""Fast re-probes end to end: a real loopback server goes down, the center confirms it
with re-probes every ``retry_interval`` instead of waiting whole intervals.

The outage starts right after a regular probe succeeded, the worst case: the next regular
probe is a whole interval away, and the two re-probes follow it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from aiohttp import web
from pydantic import SecretStr

from core.results import ProbeResult
from monitor_center.config import Config, parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.collectors.servers import serve_app
from tests.waiting import wait_until

INTERVAL = 4.0
RETRY_INTERVAL = 0.5
FAILURES = 3
BOUND = INTERVAL + (FAILURES - 1) * RETRY_INTERVAL + 1.0


@dataclass
class FlakyServer:
    """Answers 200 until told to fail, then 503; counts the requests it served."""

    url: str = ""
    failing: bool = False
    requests: int = 0
    failed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def health(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(status=503 if self.failing else 200, text="health")

    def fail(self) -> None:
        self.failing, self.failed_at = True, datetime.now(UTC)


@pytest.fixture
async def server() -> AsyncIterator[FlakyServer]:
    flaky = FlakyServer()
    app = web.Application()
    app.router.add_get("/health", flaky.health)
    async with serve_app(app) as base:
        flaky.url = f"{base}/health"
        yield flaky


def _config(url: str) -> Config:
    text = f"""
agencies: [{{id: ngsp, name: NGSP, kind: platform}}]
endpoints:
  - id: ngsp-portal
    agency: ngsp
    url: "{url}"
    interval: {INTERVAL:g}s
    timeout: 1s
    retry_interval: {RETRY_INTERVAL * 1000:g}ms
rules:
  - {{id: portal-down, kind: endpoint_down, failures: {FAILURES}}}
"""
    return parse_config_text(text, filename="fleet.yaml", env={})


async def _failures_since(service: Service, since: datetime) -> list[ProbeResult] | None:
    """The endpoint's results since ``since``, oldest first, once FAILURES all failed."""
    recent = await service.results.recent("ngsp-portal", limit=FAILURES)
    fresh = [r for r in reversed(recent) if r.time >= since]
    return fresh if len(fresh) == FAILURES and not any(r.ok for r in fresh) else None


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "probe-worker"])
async def test_an_outage_is_confirmed_within_one_interval_and_two_retry_intervals(
    server: FlakyServer, db_url: str, workers: int
) -> None:
    settings = Settings(
        database_url=SecretStr(db_url), write_flush_interval=0.05, probe_workers=workers
    )
    service = Service(settings, _config(server.url))
    await service.start()
    try:

        async def probed() -> bool:
            return server.requests > 0

        # Worker processes take a moment to spawn before the first interval starts.
        await wait_until(probed, timeout=INTERVAL + 10, what="the first regular probe")
        server.fail()
        failed = await wait_until(
            lambda: _failures_since(service, server.failed_at),
            timeout=BOUND + 2,
            what=f"{FAILURES} failed results",
        )
    finally:
        await service.stop()
    confirmed_at = failed[-1].time + timedelta(seconds=failed[-1].latency.total)
    detection = (confirmed_at - server.failed_at).total_seconds()
    spacing = [(b.time - a.time).total_seconds() for a, b in pairwise(failed)]
    print(
        f"\n[{'workers' if workers else 'in-process'}] {FAILURES} failures recorded"
        f" {detection:.2f}s after the outage (bound {BOUND:g}s, without re-probes"
        f" {FAILURES * INTERVAL:g}s); re-probe spacing {', '.join(f'{s:.2f}' for s in spacing)}s"
    )
    assert detection <= BOUND
    assert all(RETRY_INTERVAL - 0.01 <= s <= RETRY_INTERVAL + 0.25 for s in spacing)
    registry = service.metrics.registry
    retries = {
        o: registry.get_sample_value("monitor_center_probe_retries_total", {"outcome": o})
        for o in ("ok", "failed")
    }
    assert retries == {"ok": 0.0, "failed": float(FAILURES - 1)}
    failures = registry.get_sample_value(
        "monitor_center_probe_results_total", {"outcome": "failure"}
    )
    assert failures == FAILURES
