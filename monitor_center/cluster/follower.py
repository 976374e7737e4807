"""What a serve process that does not lead shows of the leader's work.

Its live snapshots need the open alerts and the series' latest values, which the leader
keeps (it runs the alert engine and polls the series). The view reads them from the
database every ``interval`` seconds while this process follows; the deltas after a
snapshot come through the shared live feed as they happen, so only a snapshot can lag,
by at most ``interval``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from psycopg_pool import AsyncConnectionPool

from alerts.model import Alert
from core.clock import Clock
from monitor_center.cluster.tasks import cancel
from monitor_center.db.repositories.alerts import AlertRepository
from monitor_center.series import SeriesRuntime
from monitor_center.series.live import RATE_WINDOW

log = logging.getLogger(__name__)


class FollowerView:
    """Open alerts and series values from the database, while ``following``."""

    def __init__(
        self,
        clock: Clock,
        series: SeriesRuntime,
        series_ids: Callable[[], list[str]],
        *,
        interval: float,
    ) -> None:
        self._clock = clock
        self._series = series
        self._series_ids = series_ids
        self._interval = interval
        self._alerts: AlertRepository | None = None
        self._task: asyncio.Task[None] | None = None
        self.open_alerts: list[Alert] = []
        """The open alerts as of the last read (empty while leading)."""

    def bind(self, pool: AsyncConnectionPool) -> None:
        self._alerts = AlertRepository(pool)

    async def follow(self) -> None:
        """Start reading (a first read at once: a snapshot never starts empty)."""
        if self._task is None and self._alerts is not None:
            await self.refresh()
            self._task = asyncio.create_task(self._run(), name="cluster-follower-view")

    async def stop(self) -> None:
        """Stop reading (this process leads now, or stops)."""
        await cancel(self._task)
        self._task = None
        self.open_alerts = []

    async def refresh(self) -> None:
        """One read of the open alerts and the series' latest values."""
        assert self._alerts is not None
        try:
            self.open_alerts = await self._alerts.load_open()
            if self._series.started:
                repo, ids = self._series.repo, self._series_ids()
                recent = await repo.since(ids, self._clock.now() - RATE_WINDOW)
                self._series.live.seed(await repo.latest(ids), recent)
        except (psycopg.Error, OSError) as exc:
            log.warning("cluster: the leader's alerts and series not read: %s", exc)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.refresh()
