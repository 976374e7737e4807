"""Batches rows into the database in the background (probe results, series readings).

Producers never wait on storage: items are appended to a bounded buffer and a single task
flushes them every ``flush_interval`` or ``batch_size`` items. A failed write keeps the
batch (in order) and retries with back-off; past ``buffer_limit`` the oldest item is
dropped and counted. A storage error is never turned into an endpoint being down, and a
replayed batch is harmless because the tables are unique on (id, time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import psycopg
from prometheus_client import Counter

from core.results import ProbeResult
from monitor_center.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
Store = Callable[[Sequence[ProbeResult]], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class WriterCounters:
    """The counters a writer moves: items stored, dropped at the limit, failed writes."""

    written: Counter
    dropped: Counter
    storage_errors: Counter


class BatchWriter(Generic[T]):
    """The one consumer of a write buffer of ``T``.

    ``counted`` says how many of a stored batch count as written (e.g. series errors are
    stored alongside but are not samples); ``what`` names the items in log lines.
    """

    def __init__(
        self,
        store: Callable[[Sequence[T]], Awaitable[object]],
        counters: WriterCounters,
        *,
        what: str,
        counted: Callable[[Sequence[T]], int] = len,
        batch_size: int = 2000,
        flush_interval: float = 0.25,
        buffer_limit: int = 500_000,
        retry_max: float = 10.0,
    ) -> None:
        self._store = store
        self._counters = counters
        self._what = what
        self._counted = counted
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retry_max = retry_max
        self._buffer: deque[T] = deque()
        self._limit = buffer_limit
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._in_flight = 0

    def submit(self, item: T) -> None:
        """Queue one item; never blocks. Past the limit the oldest item is dropped."""
        if len(self._buffer) >= self._limit:
            self._buffer.popleft()
            self._counters.dropped.inc()
        self._buffer.append(item)
        self._idle.clear()
        if len(self._buffer) >= self._batch_size:
            self._wakeup.set()

    @property
    def pending(self) -> int:
        """Items not yet stored."""
        return len(self._buffer) + self._in_flight

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._what}-writer")

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
            log.error("gave up flushing %d %s at shutdown", len(self._buffer), self._what)
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
            self._counters.storage_errors.inc()
            log.warning("could not store %d %s, will retry: %s", len(batch), self._what, exc)
            return False
        finally:
            self._in_flight = 0
        self._counters.written.inc(self._counted(batch))
        return True


class ResultWriter(BatchWriter[ProbeResult]):
    """Probe results into ``probe_results`` (``store`` is ``ProbeResultRepository.insert_many``)."""

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
        counters = WriterCounters(
            metrics.results_written, metrics.results_dropped, metrics.storage_errors
        )
        super().__init__(
            store,
            counters,
            what="results",
            batch_size=batch_size,
            flush_interval=flush_interval,
            buffer_limit=buffer_limit,
            retry_max=retry_max,
        )
