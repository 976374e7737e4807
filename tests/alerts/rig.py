"""A test rig for alerting on a real database, with time in the test's hands.

Actions happen at simulated instants (``rig.clock``); the outbox is driven by hand
(``rig.dispatch()``), so "the notification arrives between a and b" is checked against
the simulated clock, in the style of Alertmanager's acceptance tests.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from alerts.outbox import RetryPolicy
from core.clock import FrozenClock
from core.results import Latency, ProbeResult
from monitor_center.alerting.runner import Alerting
from monitor_center.config import Config, parse_config_text
from monitor_center.db.repositories import ProbeResultRepository
from monitor_center.db.repositories.notifications import NotificationFilter

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)

FLEET = """
agencies:
  - {id: ngsp, name: "Nền tảng NGSP", kind: platform}
  - {id: nghe-an, name: "Nghệ An", kind: province, depends_on: [ngsp]}
  - {id: ha-tinh, name: "Hà Tĩnh", kind: province, depends_on: [ngsp]}
  - {id: mof, name: "Bộ Tài chính", kind: ministry}
endpoints:
  - {id: ngsp-portal, agency: ngsp, url: "http://127.0.0.1:9/ngsp", interval: 10s}
  - {id: nghe-an-portal, agency: nghe-an, url: "http://127.0.0.1:9/na", interval: 10s}
  - {id: ha-tinh-portal, agency: ha-tinh, url: "http://127.0.0.1:9/ht", interval: 10s}
  - {id: mof-portal, agency: mof, url: "http://127.0.0.1:9/mof", interval: 10s}
"""


def fleet_config(tail: str) -> Config:
    """The small fleet above plus ``tail`` (rules, channels, routes...)."""
    return parse_config_text(FLEET + tail, filename="rig.yaml", env={})


@dataclass
class Rig:
    alerting: Alerting
    pool: AsyncConnectionPool
    clock: FrozenClock
    registry: CollectorRegistry

    async def probe(self, endpoint: str, ok: bool, reason: str | None = None) -> None:
        """One probe result at the current simulated time, fully stored."""
        result = ProbeResult(
            endpoint_id=endpoint,
            time=self.clock.now(),
            ok=ok,
            latency=Latency(total=0.05),
            status=200 if ok else 503,
            reason=None if ok else reason or "status 503",
        )
        await ProbeResultRepository(self.pool).insert_many([result])  # as the writer does
        self.alerting.on_result(result)
        await self.alerting.flush()

    async def attempts(self, channel: str | None = None) -> list[tuple[datetime, str, str]]:
        """(simulated time, status, outcome) of every delivery attempt, oldest first."""
        rows = await self.alerting.outbox.find(NotificationFilter(channel=channel, limit=1000))
        found = [
            (a["started_at"], r["status"], a["outcome"]) for r in rows for a in r["attempt_log"]
        ]
        return sorted(found)

    async def dispatch(self) -> int:
        """Send whatever is due now; returns how many were attempted."""
        return await self.alerting.dispatcher.run_once()

    async def tick(self) -> None:
        await self.alerting.evaluate_once()

    async def advance(self, seconds: float) -> None:
        """Move time forward, then tick and dispatch as the service would."""
        self.clock.advance(seconds)
        await self.tick()
        while await self.dispatch():
            pass

    async def run_until_quiet(self, seconds: float) -> None:
        """Jump from one due notification to the next for ``seconds`` of simulated time
        (the way the dispatcher sleeps until ``next_due``), dispatching each."""
        end = self.clock.now() + timedelta(seconds=seconds)
        while True:
            due = await self.alerting.outbox.next_due()
            if due is None or due > end:
                break
            if due > self.clock.now():
                self.clock.advance((due - self.clock.now()).total_seconds())
            while await self.dispatch():
                pass
        if end > self.clock.now():
            self.clock.advance((end - self.clock.now()).total_seconds())

    async def run_for(self, seconds: float, step: float = 1.0) -> None:
        """Advance in ``step``-second increments (ticks and dispatches each time)."""
        elapsed = 0.0
        while elapsed < seconds:
            await self.advance(step)
            elapsed += step


@asynccontextmanager
async def alerting_rig(
    pool: AsyncConnectionPool,
    config: Config,
    *,
    clock: FrozenClock | None = None,
    retry: RetryPolicy | None = None,
) -> AsyncIterator[Rig]:
    """An ``Alerting`` on ``pool`` with a frozen clock; periodic work is driven by hand."""
    clock = clock or FrozenClock(T0)
    registry = CollectorRegistry()
    alerting = Alerting(
        pool,
        config,
        clock,
        registry,
        retry=retry or RetryPolicy(attempt_timeout=2),
        rng=random.Random(7),
    )
    rig = Rig(alerting, pool, clock, registry)
    await alerting.start(background=False)
    try:
        yield rig
    finally:
        await alerting.stop()
