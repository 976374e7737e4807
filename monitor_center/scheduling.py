"""Probe scheduling on APScheduler 3 (AsyncIOScheduler).

Each endpoint runs on its own interval with a stable offset inside that interval, derived
from its id, so 5,000 endpoints at 1 s spread over the second instead of firing in one
burst, and a restart (or another replica) keeps the same phase.

Misfire policy, explicitly: at most one probe per endpoint is in flight
(``max_instances=1``); a run that could not start because the previous one is still going
is skipped and counted (``reason="in_flight"``); a run that starts later than half an
interval (at least 1 s) is dropped and counted (``reason="missed"``), and several missed
runs are coalesced into one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from collectors.http import ProbeSpec
from core.clock import Clock
from core.results import ProbeResult
from monitor_center.metrics import Metrics

log = logging.getLogger(__name__)


class Prober(Protocol):
    async def probe(self, spec: ProbeSpec) -> ProbeResult: ...


@dataclass(frozen=True, slots=True)
class Target:
    """One endpoint to probe every ``interval`` seconds."""

    spec: ProbeSpec
    interval: float


def stable_offset(key: str, interval: float) -> float:
    """A fraction of ``interval`` that depends only on ``key`` (crc32, not ``hash``)."""
    return (zlib.crc32(key.encode("utf-8")) / 2**32) * interval


def first_run_at(now: datetime, key: str, interval: float) -> datetime:
    """The first instant >= now on the endpoint's grid: epoch + offset + k * interval."""
    offset = stable_offset(key, interval)
    elapsed = now.timestamp() - offset
    k = math.ceil(elapsed / interval)
    return datetime.fromtimestamp(offset + k * interval, tz=UTC)


def misfire_grace(interval: float) -> int:
    return max(1, math.ceil(interval / 2))


class ProbeScheduler:
    """Keeps one APScheduler job per endpoint and hands every result to ``on_result``."""

    def __init__(
        self,
        prober: Prober,
        on_result: Callable[[ProbeResult], None],
        metrics: Metrics,
        clock: Clock,
    ) -> None:
        self._prober = prober
        self._on_result = on_result
        self._metrics = metrics
        self._clock = clock
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_listener(self._on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        self._scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        self._targets: dict[str, Target] = {}
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def set_targets(self, targets: Sequence[Target]) -> None:
        """Make the job set equal to ``targets``: add new, replace changed, drop removed."""
        wanted = {t.spec.endpoint_id: t for t in targets}
        for endpoint_id in list(self._targets):
            if endpoint_id not in wanted:
                self._scheduler.remove_job(endpoint_id)
                del self._targets[endpoint_id]
        now = self._clock.now()
        for endpoint_id, target in wanted.items():
            if self._targets.get(endpoint_id) == target:
                continue
            self._scheduler.add_job(
                self._run,
                IntervalTrigger(
                    seconds=target.interval,
                    start_date=first_run_at(now, endpoint_id, target.interval),
                    timezone=UTC,
                ),
                args=[target.spec],
                id=endpoint_id,
                name=endpoint_id,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=misfire_grace(target.interval),
            )
            self._targets[endpoint_id] = target

    def start(self) -> None:
        self._scheduler.start()

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop scheduling and let probes in flight finish (their results still count)."""
        if not self._scheduler.running:
            return
        # Pause first: shutting the executor down would cancel the probes in flight.
        self._scheduler.pause()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        self._scheduler.shutdown(wait=False)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def next_run(self, endpoint_id: str) -> datetime | None:
        job = self._scheduler.get_job(endpoint_id)
        return None if job is None else job.next_run_time

    async def probe_now(self, endpoint_id: str) -> ProbeResult:
        """Probe one endpoint outside its schedule (used by the API and tests)."""
        result = await self._prober.probe(self._targets[endpoint_id].spec)
        self._on_result(result)
        return result

    async def _run(self, spec: ProbeSpec) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            result = await self._prober.probe(spec)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()
        self._on_result(result)

    def _on_event(self, event: JobEvent) -> None:
        reason = "in_flight" if event.code == EVENT_JOB_MAX_INSTANCES else "missed"
        self._metrics.skipped_runs.labels(reason).inc()

    def _on_error(self, event: JobExecutionEvent) -> None:
        if not isinstance(event.exception, asyncio.CancelledError):
            log.error("probe job %s failed: %r", event.job_id, event.exception)


__all__ = ["ProbeScheduler", "Prober", "Target", "first_run_at", "stable_offset"]
