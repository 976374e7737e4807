"""The push API's rate limit: a token bucket per API token, on the service's clock.

A real service on a scratch database with a frozen clock: the buckets refill only when
the test moves the clock, so every answer below is decided, not timed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from core.clock import FrozenClock
from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.running import serving

NOC = "push-noc-operator-token-0123456789"
HANOI = "push-ha-noi-feed-token-0123456789"
RATE, BURST = 0.5, 3  # a push every 2 s after 3 at once
SERIES, OTHER = "ha-noi-dossiers", "ngsp-transactions"
CONFIG = f"""
auth:
  tokens:
    - {{name: noc, token: {NOC}, role: operator}}
    - {{name: ha-noi-feed, token: {HANOI}, role: viewer, agency: ha-noi}}
agencies:
  - {{id: ngsp, name: NGSP, kind: platform}}
  - {{id: ha-noi, name: "Hà Nội", kind: province}}
series:
  - {{id: {SERIES}, agency: ha-noi, kind: counter, unit: dossiers, interval: 1h}}
  - {{id: {OTHER}, agency: ngsp, kind: counter, unit: transactions, interval: 1h}}
"""


@dataclass
class Center:
    base: str
    http: aiohttp.ClientSession
    clock: FrozenClock

    async def push(
        self, token: str = NOC, series: str = SERIES, sample: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """Push one sample (default: 1 at the clock's now); (status, headers, JSON body)."""
        sample = sample or {"time": self.clock.now().isoformat(), "value": 1.0}
        async with self.http.post(
            f"{self.base}/api/v1/series/{series}/samples",
            headers={"Authorization": f"Bearer {token}"},
            json={"samples": [sample]},
        ) as r:
            return r.status, dict(r.headers), await r.json()

    async def pushes(self, n: int, token: str = NOC, series: str = SERIES) -> list[int]:
        return [(await self.push(token, series))[0] for _ in range(n)]


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    clock = FrozenClock(datetime(2024, 5, 1, 3, 0, tzinfo=UTC))
    config = parse_config_text(CONFIG, filename="push.yaml", env={})
    settings = Settings(
        database_url=SecretStr(db_url), series_push_rate=RATE, series_push_burst=BURST
    )
    service = Service(settings, config, clock=clock)
    async with serving(service) as base, aiohttp.ClientSession() as http:
        yield Center(base, http, clock)


async def test_pushes_within_the_burst_pass(center: Center) -> None:
    assert await center.pushes(BURST) == [200] * BURST


async def test_a_push_over_the_limit_gets_429_with_retry_after_naming_the_limit(
    center: Center,
) -> None:
    await center.pushes(BURST)

    status, headers, body = await center.push()

    assert status == 429
    assert headers["Retry-After"] == "2"  # one token at 0.5 a second
    assert body["detail"]["limit"] == "series_push_rate"
    assert (body["detail"]["rate_per_second"], body["detail"]["burst"]) == (RATE, BURST)
    assert body["detail"]["retry_after_seconds"] == 2
    assert "token 'noc'" in body["detail"]["message"]
    assert NOC not in json.dumps(body)  # the token's name, never its value


async def test_the_bucket_refills_at_the_rate(center: Center) -> None:
    await center.pushes(BURST)
    center.clock.advance(1.0)  # half a token: still refused, sooner
    status, headers, _ = await center.push()
    assert (status, headers["Retry-After"]) == (429, "1")

    center.clock.advance(1.0)
    assert await center.pushes(2) == [200, 429]  # one token back, one push

    center.clock.advance(60.0)  # a long pause refills the burst, no more
    assert await center.pushes(BURST + 1) == [200] * BURST + [429]


async def test_one_tokens_flood_does_not_limit_another(center: Center) -> None:
    flood = await center.pushes(BURST + 5, token=NOC)

    assert flood.count(429) == 5
    assert await center.pushes(BURST, token=HANOI) == [200] * BURST


async def test_read_routes_are_not_limited(center: Center) -> None:
    await center.pushes(BURST + 1)
    headers = {"Authorization": f"Bearer {NOC}"}

    for path in ("/api/v1/series", f"/api/v1/series/{SERIES}/points", "/api/v1/endpoints"):
        for _ in range(BURST + 1):
            async with center.http.get(center.base + path, headers=headers) as r:
                assert r.status == 200, (path, await r.text())


async def test_a_push_the_token_may_not_make_takes_nothing_from_its_bucket(
    center: Center,
) -> None:
    forbidden = await center.pushes(BURST + 1, token=HANOI, series=OTHER)

    assert forbidden == [403] * (BURST + 1)
    assert await center.pushes(BURST, token=HANOI) == [200] * BURST


async def test_invalid_pushes_count_against_the_limit(center: Center) -> None:
    no_offset = {"time": "2024-05-01T03:00:00", "value": 1}
    statuses = [(await center.push(sample=no_offset))[0] for _ in range(BURST + 1)]

    assert statuses == [422] * BURST + [429]
