"""Series polling on APScheduler 3, with the probes' policy.

Each series is read every ``interval`` at a stable offset derived from its id (see
:func:`monitor_center.scheduling.first_run_at`), so reads spread over the interval and
keep their phase across restarts. At most one read per series is in flight; a run that
finds the previous one still going, or starts later than half an interval, is skipped
and counted; missed runs coalesce.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from collectors.series import SeriesReading, SeriesSpec
from core.clock import Clock
from monitor_center.scheduling import add_grid_job
from monitor_center.series.metrics import SeriesMetrics

log = logging.getLogger(__name__)


class Reader(Protocol):
    async def read(self, spec: SeriesSpec) -> SeriesReading: ...


@dataclass(frozen=True, slots=True)
class SeriesTarget:
    """One series to read every ``interval`` seconds."""

    spec: SeriesSpec
    interval: float


class SeriesSchedule:
    """One APScheduler job per series; every reading goes to ``on_reading``."""

    def __init__(
        self,
        reader: Reader,
        on_reading: Callable[[SeriesReading], None],
        metrics: SeriesMetrics,
        clock: Clock,
    ) -> None:
        self._reader = reader
        self._on_reading = on_reading
        self._metrics = metrics
        self._clock = clock
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_listener(self._on_skip, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        self._scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        self._targets: dict[str, SeriesTarget] = {}
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def set_targets(self, targets: Sequence[SeriesTarget]) -> None:
        """Make the job set equal to ``targets``: add new, replace changed, drop removed."""
        wanted = {t.spec.series_id: t for t in targets}
        for series_id in list(self._targets):
            if series_id not in wanted:
                self._scheduler.remove_job(series_id)
                del self._targets[series_id]
        now = self._clock.now()
        for series_id, target in wanted.items():
            if self._targets.get(series_id) == target:
                continue
            add_grid_job(self._scheduler, self._run, series_id, target.interval, now, target.spec)
            self._targets[series_id] = target

    def start(self) -> None:
        self._scheduler.start()

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop scheduling and let reads in flight finish (their readings still count)."""
        if not self._scheduler.running:
            return
        # Pause first: shutting the executor down would cancel the reads in flight.
        self._scheduler.pause()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        self._scheduler.shutdown(wait=False)

    async def read_now(self, series_id: str) -> SeriesReading:
        """Read one series outside its schedule (tests, the demo)."""
        return await self._run(self._targets[series_id].spec)

    async def _run(self, spec: SeriesSpec) -> SeriesReading:
        self._in_flight += 1
        self._idle.clear()
        try:
            reading = await self._reader.read(spec)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()
        self._on_reading(reading)
        return reading

    def _on_skip(self, event: JobEvent) -> None:
        reason = "in_flight" if event.code == EVENT_JOB_MAX_INSTANCES else "missed"
        self._metrics.skipped_runs.labels(reason).inc()

    def _on_error(self, event: JobExecutionEvent) -> None:
        if not isinstance(event.exception, asyncio.CancelledError):
            log.error("series job %s failed: %r", event.job_id, event.exception)
