"""Probe scheduling on APScheduler 3 (AsyncIOScheduler).

Each endpoint runs on its own interval with a stable offset inside that interval, derived
from its id, so 5,000 endpoints at 1 s spread over the second instead of firing in one
burst, and a restart (or another replica) keeps the same phase.

Misfire policy, explicitly: at most one probe per endpoint is in flight
(``max_instances=1``); a run that could not start because the previous one is still going
is skipped and counted (``reason="in_flight"``); a run that starts later than half an
interval (at least 1 s) is dropped and counted (``reason="missed"``), and several missed
runs are coalesced into one.

Fast re-probes: a target with ``retry_interval`` (shorter than its interval) and
``retries`` > 0 whose scheduled probe fails is re-probed on a ``retry_interval`` grid
started at the failure, up to ``retries`` times, stopping at the first success, so an
``endpoint_down`` rule needing N failures confirms in about interval + (N-1) x
retry_interval instead of N intervals. Re-probe results go to ``on_result`` like any
other. While an endpoint is re-probing, its regular runs stay on their grid but are
skipped and counted (``reason="retrying"``): the re-probes are denser, and running both
would be a burst. Once the re-probes run out with the endpoint still failing, the failure
is confirmed and the endpoint goes back to its plain interval (no re-probes) until a probe
succeeds again, so a long outage costs no extra load (as Nagios' soft/hard states).
Re-probing never overlaps a probe of the same endpoint: a re-probe slot that finds one in
flight is skipped without using up a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import zlib
from collections.abc import Awaitable, Callable, Sequence
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
    """One endpoint to probe every ``interval`` seconds.

    After a failed probe it is re-probed every ``retry_interval`` seconds, at most
    ``retries`` times in a row; ``None`` or 0 turns fast re-probes off.
    """

    spec: ProbeSpec
    interval: float
    retry_interval: float | None = None
    retries: int = 0

    @property
    def reprobes(self) -> bool:
        """True when a failure is confirmed by re-probes rather than by the next runs."""
        return (
            self.retries > 0
            and self.retry_interval is not None
            # A grid at least as dense as the re-probes would confirm as fast on its own.
            and 0 < self.retry_interval < self.interval
        )


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


def add_grid_job(
    scheduler: AsyncIOScheduler,
    run: Callable[..., Awaitable[object]],
    key: str,
    interval: float,
    now: datetime,
    *args: object,
) -> None:
    """(Re)place job ``key``: ``run(*args)`` every ``interval`` s on the key's stable grid,
    at most one in flight, missed runs coalesced and late ones dropped (see the module
    docstring). Probes and series polling share this policy."""
    scheduler.add_job(
        run,
        IntervalTrigger(
            seconds=interval, start_date=first_run_at(now, key, interval), timezone=UTC
        ),
        args=list(args),
        id=key,
        name=key,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=misfire_grace(interval),
    )


def next_slot(started: float, step: float, after_slot: int, now: float) -> int:
    """The first re-probe slot ``k > after_slot`` with ``started + k * step >= now``.

    Slots a long probe ran past are skipped rather than made up in a burst.
    """
    return max(after_slot + 1, math.ceil((now - started) / step))


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
        # Per endpoint: a scheduled probe (regular or re-probe) in flight, the re-probe
        # task while it lasts, and whether a failure was already confirmed.
        self._probing: set[str] = set()
        self._retrying: dict[str, asyncio.Task[None]] = {}
        self._confirmed: set[str] = set()
        # Every re-probe task, also those detached by set_targets, so shutdown awaits them.
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    def set_targets(self, targets: Sequence[Target]) -> None:
        """Make the job set equal to ``targets``: add new, replace changed, drop removed.

        Re-probes of a removed or changed endpoint are cancelled.
        """
        wanted = {t.spec.endpoint_id: t for t in targets}
        for endpoint_id in list(self._targets):
            if endpoint_id not in wanted:
                self._scheduler.remove_job(endpoint_id)
                del self._targets[endpoint_id]
                self._stop_retrying(endpoint_id)
                self._confirmed.discard(endpoint_id)
        now = self._clock.now()
        for endpoint_id, target in wanted.items():
            if self._targets.get(endpoint_id) == target:
                continue
            self._stop_retrying(endpoint_id)
            add_grid_job(self._scheduler, self._run, endpoint_id, target.interval, now, target.spec)
            self._targets[endpoint_id] = target

    def start(self) -> None:
        self._scheduler.start()

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop scheduling and let probes in flight finish (their results still count)."""
        if not self._scheduler.running:
            return
        # Pause first: shutting the executor down would cancel the probes in flight.
        self._scheduler.pause()
        self._stopping = True
        for endpoint_id in list(self._retrying):
            self._stop_retrying(endpoint_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._scheduler.shutdown(wait=False)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def retrying(self) -> frozenset[str]:
        """Endpoints being re-probed right now."""
        return frozenset(self._retrying)

    def next_run(self, endpoint_id: str) -> datetime | None:
        job = self._scheduler.get_job(endpoint_id)
        return None if job is None else job.next_run_time

    async def probe_now(self, endpoint_id: str) -> ProbeResult:
        """Probe one endpoint outside its schedule (used by the API and tests)."""
        result = await self._prober.probe(self._targets[endpoint_id].spec)
        self._on_result(result)
        return result

    async def _run(self, spec: ProbeSpec) -> None:
        """A regular run: probe, then start re-probing if it failed."""
        endpoint_id = spec.endpoint_id
        if endpoint_id in self._retrying or endpoint_id in self._probing:
            reason = "retrying" if endpoint_id in self._retrying else "in_flight"
            self._metrics.skipped_runs.labels(reason).inc()
            return
        result = await self._probe(spec)
        self._on_result(result)
        if result.ok:
            self._confirmed.discard(endpoint_id)
            return
        target = self._targets.get(endpoint_id)
        # Not for a target changed or removed meanwhile, nor once the failure is confirmed.
        if target is None or target.spec != spec or not target.reprobes:
            return
        if endpoint_id not in self._confirmed and not self._stopping:
            task = asyncio.create_task(self._reprobe(target), name=f"reprobe-{endpoint_id}")
            self._retrying[endpoint_id] = task
            self._tasks.add(task)
            task.add_done_callback(self._reaped)

    async def _probe(self, spec: ProbeSpec) -> ProbeResult:
        """One scheduled probe, counted in flight overall and for its endpoint."""
        self._in_flight += 1
        self._idle.clear()
        self._probing.add(spec.endpoint_id)
        try:
            return await self._prober.probe(spec)
        finally:
            self._probing.discard(spec.endpoint_id)
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _reprobe(self, target: Target) -> None:
        """Re-probe on a ``retry_interval`` grid until a success or ``retries`` are used."""
        endpoint_id = target.spec.endpoint_id
        step = target.retry_interval
        assert step is not None
        me = asyncio.current_task()
        loop = asyncio.get_running_loop()
        started, slot, used = loop.time(), 0, 0
        try:
            while used < target.retries:
                slot = next_slot(started, step, slot, loop.time())
                await asyncio.sleep(started + slot * step - loop.time())
                if endpoint_id in self._probing:
                    continue  # never two probes of one endpoint: wait for the next slot
                used += 1
                if await self._reprobe_once(target.spec):
                    return
                if self._retrying.get(endpoint_id) is not me:
                    return  # stopped while probing, when it could not be cancelled
            self._confirmed.add(endpoint_id)
        finally:
            if self._retrying.get(endpoint_id) is me:
                del self._retrying[endpoint_id]

    async def _reprobe_once(self, spec: ProbeSpec) -> bool:
        """One re-probe through the normal result path; True when it succeeded."""
        result = await self._probe(spec)
        self._metrics.probe_retries.labels("ok" if result.ok else "failed").inc()
        self._on_result(result)
        return result.ok

    def _stop_retrying(self, endpoint_id: str) -> None:
        """Forget an endpoint's re-probes; cancel them unless one is probing right now.

        A re-probe in flight is let finish (its result counts, as a regular run's does
        when its endpoint is removed); the task sees it was detached and stops.
        """
        task = self._retrying.pop(endpoint_id, None)
        if task is not None and endpoint_id not in self._probing:
            task.cancel()

    def _reaped(self, task: asyncio.Task[None]) -> None:
        # A prober reports failures as results; an exception here is a bug to log, as
        # APScheduler logs a regular run's (see _on_error).
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("re-probes %s failed: %r", task.get_name(), task.exception())

    def _on_event(self, event: JobEvent) -> None:
        reason = "in_flight" if event.code == EVENT_JOB_MAX_INSTANCES else "missed"
        self._metrics.skipped_runs.labels(reason).inc()

    def _on_error(self, event: JobExecutionEvent) -> None:
        if not isinstance(event.exception, asyncio.CancelledError):
            log.error("probe job %s failed: %r", event.job_id, event.exception)


__all__ = ["ProbeScheduler", "Prober", "Target", "first_run_at", "next_slot", "stable_offset"]
