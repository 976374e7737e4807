"""Series inside the service: polling, storage, pushes and the live view, wired together.

The service owns one :class:`SeriesRuntime`: ``start`` once the database pool is open,
``reload`` with each new config, ``stop`` before the pool closes. Collected readings
and pushed samples take the same way out: storage (idempotent), metrics, the live view
and, when a series' latest value moves, a ``series`` message on the live feed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

from collectors.series import JsonQuery, PrometheusQuery, SeriesReader, SeriesReading, SeriesSpec
from core.clock import Clock
from core.samples import Sample
from monitor_center.config import Config, JsonSource, Series
from monitor_center.db.repositories.series import SeriesRepository
from monitor_center.series.live import RATE_WINDOW, SeriesLive
from monitor_center.series.metrics import SeriesMetrics
from monitor_center.series.schedule import Reader, SeriesSchedule, SeriesTarget
from monitor_center.series.writer import SeriesWriter
from monitor_center.settings import Settings
from monitor_center.spool import Spool

log = logging.getLogger(__name__)

Publish = Callable[[Mapping[str, Any]], object]
MAX_TIMEOUT = timedelta(seconds=10)


def series_spec(series: Series, max_body_bytes: int) -> SeriesSpec:
    """The collector's view of a configured series; the deadline is min(interval, 10 s)."""
    source = series.source
    if source is None:
        raise ValueError(f"series '{series.id}' has no source to poll (it is pushed)")
    query: JsonQuery | PrometheusQuery
    if isinstance(source, JsonSource):
        query = JsonQuery(source.url, source.path)
    else:
        query = PrometheusQuery.of(source.url, source.metric, source.labels)
    timeout = min(series.interval, MAX_TIMEOUT).total_seconds()
    return SeriesSpec(series.id, query, timeout, max_body_bytes)


class SeriesRuntime:
    """Reader, schedule, writer, repository and live view of the configured series."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        metrics: SeriesMetrics,
        publish: Publish,
        *,
        reader: Reader | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.live = SeriesLive(clock)
        self._publish = publish
        self._own_reader = reader is None
        self._reader: Reader = reader or SeriesReader(clock=clock)
        self.schedule = SeriesSchedule(self._reader, self.on_reading, metrics, clock)
        self._repo: SeriesRepository | None = None
        self._writer: SeriesWriter | None = None
        self._failing: dict[str, str] = {}  # series id -> reason, to log changes only

    @property
    def started(self) -> bool:
        return self._repo is not None

    @property
    def repo(self) -> SeriesRepository:
        assert self._repo is not None, "series not started"
        return self._repo

    @property
    def writer(self) -> SeriesWriter:
        assert self._writer is not None, "series not started"
        return self._writer

    async def start(
        self,
        pool: AsyncConnectionPool,
        config: Config,
        *,
        spool: Spool[SeriesReading] | None = None,
    ) -> None:
        """Load the latest stored values, then start storing (past the memory bound into
        ``spool`` while the database is away) and polling."""
        s = self.settings
        self._repo = SeriesRepository(pool)
        self._writer = SeriesWriter(
            self._repo.insert,
            self.metrics,
            batch_size=s.write_batch_size,
            flush_interval=s.write_flush_interval,
            buffer_limit=s.write_buffer_limit,
            spool=spool,
        )
        self._writer.start()
        self.live.configure(config.series)
        ids = [x.id for x in config.series]
        recent = await self._repo.since(ids, self.clock.now() - RATE_WINDOW)
        self.live.seed(await self._repo.latest(ids), recent)
        self.schedule.set_targets(self._targets(config))
        self.schedule.start()
        log.info("collecting %d series", len(config.series))

    async def stop(self) -> None:
        """Finish the reads in flight, then flush what is buffered."""
        await self.schedule.shutdown()
        if self._own_reader and isinstance(self._reader, SeriesReader):
            await self._reader.close()
        if self._writer is not None:
            await self._writer.close()

    def reload(self, config: Config) -> None:
        """Follow the new config: added series start, removed ones stop (data kept)."""
        self.live.configure(config.series)
        if self.started:
            self.schedule.set_targets(self._targets(config))

    def on_reading(self, reading: SeriesReading) -> None:
        """Every collected reading passes here exactly once."""
        if self._writer is not None:
            self._writer.submit(reading)
        if reading.error is not None:
            self.metrics.errors.labels(reading.error.reason).inc()
            if self._failing.get(reading.series_id) != reading.error.reason:
                log.warning("series %s: %s", reading.series_id, reading.error.message)
            self._failing[reading.series_id] = reading.error.reason
            return
        assert reading.value is not None
        self.metrics.reads.inc()
        if self._failing.pop(reading.series_id, None) is not None:
            log.info("series %s reads again", reading.series_id)
        self._observe(reading.series_id, [Sample(reading.time, reading.value)])

    async def push(self, series_id: str, samples: Sequence[Sample]) -> int:
        """Store pushed samples now (not through the buffer); how many were new."""
        rows = [(series_id, s.time, s.value) for s in samples]
        inserted = await self.repo.insert(rows)
        self.metrics.pushed.labels("new").inc(inserted)
        self.metrics.pushed.labels("duplicate").inc(len(rows) - inserted)
        self._observe(series_id, samples)
        return inserted

    def _observe(self, series_id: str, samples: Sequence[Sample]) -> None:
        message = self.live.observe(series_id, samples)
        if message is not None:
            self._publish(message)

    def _targets(self, config: Config) -> list[SeriesTarget]:
        cap = self.settings.series_max_body_bytes
        # Push-only series (no source) are written by their agency, never polled.
        return [
            SeriesTarget(series_spec(s, cap), s.interval.total_seconds())
            for s in config.series
            if s.source is not None
        ]
