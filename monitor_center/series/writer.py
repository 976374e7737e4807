"""Batches collected series readings into the database in the background.

The same design as the probe ``ResultWriter``: reading never waits on storage. Readings
go to a bounded buffer; one task stores them (values with COPY, errors alongside) every
``flush_interval`` or ``batch_size`` readings. A failed write keeps the batch and retries
with back-off, and a replayed batch is harmless (the tables are unique on series and
time), so the database being away loses nothing until the buffer limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

import psycopg

from collectors.series import SeriesReading
from monitor_center.db.repositories.series import ErrorRow, SampleRow
from monitor_center.series.metrics import SeriesMetrics

log = logging.getLogger(__name__)

Store = Callable[[Sequence[SampleRow], Sequence[ErrorRow]], Awaitable[int]]


def split(readings: Sequence[SeriesReading]) -> tuple[list[SampleRow], list[ErrorRow]]:
    """Rows for ``series_samples`` and for ``series_errors``."""
    samples: list[SampleRow] = []
    errors: list[ErrorRow] = []
    for r in readings:
        if r.value is not None:
            samples.append((r.series_id, r.time, r.value))
        elif r.error is not None:
            errors.append((r.series_id, r.time, r.error.reason, r.error.message))
    return samples, errors


class SeriesWriter:
    """The one consumer of the series write buffer."""

    def __init__(
        self,
        store: Store,
        metrics: SeriesMetrics,
        *,
        batch_size: int = 2000,
        flush_interval: float = 0.25,
        buffer_limit: int = 500_000,
        retry_max: float = 10.0,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._limit = buffer_limit
        self._retry_max = retry_max
        self._buffer: deque[SeriesReading] = deque()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._in_flight = 0

    def submit(self, reading: SeriesReading) -> None:
        """Queue one reading; never blocks. Past the limit the oldest one is dropped."""
        if len(self._buffer) >= self._limit:
            self._buffer.popleft()
            self._metrics.dropped.inc()
        self._buffer.append(reading)
        self._idle.clear()
        if len(self._buffer) >= self._batch_size:
            self._wakeup.set()

    @property
    def pending(self) -> int:
        """Readings not yet stored."""
        return len(self._buffer) + self._in_flight

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="series-writer")

    async def drained(self) -> None:
        """Wait until everything submitted so far is stored."""
        await self._idle.wait()

    async def close(self, timeout: float = 10.0) -> None:
        """Flush what is buffered (up to ``timeout``) and stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            log.error("gave up flushing %d series readings at shutdown", len(self._buffer))
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.0
        while True:
            if not self._buffer:
                self._idle.set()
                if self._closing:
                    return
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self._flush_interval)
                continue
            if await self._flush_once():
                delay = 0.0
            else:
                delay = min(max(delay * 2, 0.25), self._retry_max)
                if self._closing:
                    return
                await asyncio.sleep(delay)

    async def _flush_once(self) -> bool:
        # Out of the buffer while in flight, so an overflow drop never removes it; put
        # back in front on failure so the order is kept.
        count = min(self._batch_size, len(self._buffer))
        batch = [self._buffer.popleft() for _ in range(count)]
        self._in_flight = len(batch)
        samples, errors = split(batch)
        try:
            await self._store(samples, errors)
        except (psycopg.Error, OSError) as exc:
            self._buffer.extendleft(reversed(batch))
            self._metrics.storage_errors.inc()
            log.warning("could not store %d series readings, will retry: %s", len(batch), exc)
            return False
        finally:
            self._in_flight = 0
        self._metrics.written.inc(len(samples))
        return True
