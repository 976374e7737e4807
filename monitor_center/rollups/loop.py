"""The service's rollup task: a pass every ``interval`` seconds, retention once a day."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import psycopg
from psycopg_pool import AsyncConnectionPool

from core.clock import Clock
from monitor_center.db.repositories.rollups import RollupRepository
from monitor_center.rollups.job import RollupJob, RollupScope
from monitor_center.rollups.retention import enforce_retention

log = logging.getLogger(__name__)

RETENTION_EVERY = timedelta(days=1)


class RollupLoop:
    """Keeps the rollups current while the service runs; errors are logged, never fatal."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        scope: Callable[[], RollupScope],
        clock: Clock,
        *,
        interval: float,
        retention_days: int,
        day_refresh: float,
    ) -> None:
        """``scope`` is read at every pass, so a config reload takes effect at once."""
        self._repo = RollupRepository(pool)
        self._job = RollupJob(self._repo, day_refresh=timedelta(seconds=day_refresh))
        self._scope = scope
        self._clock = clock
        self._interval = interval
        self._retention_days = retention_days
        self._retained_at: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rollups")

    async def stop(self) -> None:
        """Cancel the task; a bucket being rolled is rolled back and stays pending."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except (psycopg.Error, OSError) as exc:
                # The database may be down for a while; the next pass catches up.
                log.warning("rollup pass failed, retrying in %gs: %s", self._interval, exc)
            except Exception:
                # A bug in one pass must neither stop the rollups nor the service's stop.
                log.exception("rollup pass failed")
            await asyncio.sleep(self._interval)

    async def tick(self) -> None:
        """One pass; with retention first thing after start and then once a day."""
        now = self._clock.now()
        if self._retained_at is None or now - self._retained_at >= RETENTION_EVERY:
            report = await enforce_retention(
                self._repo, self._job, self._scope(), now, self._retention_days
            )
            self._retained_at = now
            for d in report.dropped:
                if d.chunks or d.rows:
                    log.info(
                        "retention: dropped %s %s from %s (before %s)",
                        d.chunks if d.chunks is not None else d.rows,
                        "chunks" if d.chunks is not None else "rows",
                        d.table,
                        d.before.isoformat(),
                    )
            return
        await self._job.run_pass(self._scope(), now)
