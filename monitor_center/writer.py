"""Batches probe results into the database in the background.

Probing never waits on storage: results are appended to a bounded buffer and a single
task flushes them with COPY every ``flush_interval`` or ``batch_size`` results. A failed
write keeps the batch and retries with back-off; a storage error is never turned into an
endpoint being down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

import psycopg

from core.results import ProbeResult
from monitor_center.metrics import Metrics

log = logging.getLogger(__name__)

Store = Callable[[Sequence[ProbeResult]], Awaitable[int]]


class ResultWriter:
    """The one consumer of the write buffer."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
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
        self._retry_max = retry_max
        self._buffer: deque[ProbeResult] = deque()
        self._limit = buffer_limit
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._in_flight = 0

    def submit(self, result: ProbeResult) -> None:
        """Queue one result; never blocks. Past the limit the oldest result is dropped."""
        if len(self._buffer) >= self._limit:
            self._buffer.popleft()
            self._metrics.results_dropped.inc()
        self._buffer.append(result)
        self._idle.clear()
        if len(self._buffer) >= self._batch_size:
            self._wakeup.set()

    @property
    def pending(self) -> int:
        """Results not yet stored."""
        return len(self._buffer) + self._in_flight

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="result-writer")

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
            log.error("gave up flushing %d results at shutdown", len(self._buffer))
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
        # Taken out while in flight so that an overflow drop never removes it; put back
        # in front on failure so the order is kept.
        batch = [self._buffer.popleft() for _ in range(min(self._batch_size, len(self._buffer)))]
        self._in_flight = len(batch)
        try:
            await self._store(batch)
        except (psycopg.Error, OSError) as exc:
            self._buffer.extendleft(reversed(batch))
            self._metrics.storage_errors.inc()
            log.warning("could not store %d results, will retry: %s", len(batch), exc)
            return False
        finally:
            self._in_flight = 0
        self._metrics.results_written.inc(len(batch))
        return True
