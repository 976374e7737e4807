"""Batches rows into the database in the background (probe results, series readings).

Producers never wait on storage: items are appended to a buffer and a single task
flushes them every ``flush_interval`` or ``batch_size`` items. A failed write keeps the
batch (in order) and retries with back-off. Memory is bounded by ``buffer_limit``: past
it, while the database is away, the oldest items go to the on-disk spool
(``monitor_center/spool.py``), which is written back first when the database returns
(spool, then memory: the order is kept). Without a spool the oldest item is dropped and
counted. A storage error is never turned into an endpoint being down, and a replayed
batch is harmless because the tables are unique on (id, time) and inserts skip conflicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import psycopg
from prometheus_client import Counter

from core.results import ProbeResult, result_from_row, result_to_row
from monitor_center.metrics import Metrics
from monitor_center.spool import Codec, Spool

log = logging.getLogger(__name__)

T = TypeVar("T")
Store = Callable[[Sequence[ProbeResult]], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class WriterCounters:
    """The counters a writer moves: rows stored, items lost, failed writes."""

    written: Counter
    dropped: Counter
    storage_errors: Counter


class BatchWriter(Generic[T]):
    """The one consumer of a write buffer of ``T``.

    ``store`` writes a batch and returns how many rows were new (a replayed row is not
    counted twice); ``what`` names the items in log lines. With a ``spool``, items past
    ``buffer_limit`` go to disk instead of being dropped, and what is left at ``close``
    is kept there for the next start.
    """

    def __init__(
        self,
        store: Callable[[Sequence[T]], Awaitable[int]],
        counters: WriterCounters,
        *,
        what: str,
        batch_size: int = 2000,
        flush_interval: float = 0.25,
        buffer_limit: int = 500_000,
        retry_max: float = 10.0,
        spool: Spool[T] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._counters = counters
        self._what = what
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retry_max = retry_max
        self._spool = spool
        self._monotonic = monotonic
        self._buffer: deque[T] = deque()
        self._limit = buffer_limit
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # A batch taken from memory while it is being stored; ``_flying_spilled`` once an
        # overflow has copied it to the spool (then a failure needs no putting back).
        self._flying: list[T] = []
        self._flying_spilled = False
        self._failing_since: float | None = None
        self._disk_refused = False

    def submit(self, item: T) -> None:
        """Queue one item; never blocks. Past the limit the oldest items are spooled."""
        self._buffer.append(item)
        self._idle.clear()
        if len(self._buffer) + self._flying_in_memory > self._limit:
            self._overflow()
        if len(self._buffer) >= self._batch_size:
            self._wakeup.set()

    @property
    def pending(self) -> int:
        """Items not yet stored (in memory, in flight and spooled)."""
        return len(self._buffer) + self._flying_in_memory + self.spooled

    @property
    def spooled(self) -> int:
        """Items waiting on disk."""
        return len(self._spool) if self._spool is not None else 0

    def failing_for(self) -> float:
        """Seconds since the first write that has not succeeded yet began; 0 when healthy.

        A write that hangs counts from its start, so a database that stops answering is
        noticed as surely as one that refuses.
        """
        if self._failing_since is None:
            return 0.0
        return self._monotonic() - self._failing_since

    def start(self) -> None:
        """Adopt what a previous run left in the spool, then start flushing."""
        if self._spool is not None:
            try:
                self._spool.open()
            except OSError as exc:
                log.error("spool of %s unusable: %s", self._what, exc)
        if self._buffer or self.spooled:
            self._idle.clear()
        self._task = asyncio.create_task(self._run(), name=f"{self._what}-writer")

    async def drained(self) -> None:
        """Wait until everything submitted so far is stored."""
        await self._idle.wait()

    async def close(self, timeout: float = 10.0) -> None:
        """Flush what is buffered (up to ``timeout``) and stop; the rest goes to the spool."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        self._keep_rest()

    # -- internals -----------------------------------------------------------------------

    @property
    def _flying_in_memory(self) -> int:
        return 0 if self._flying_spilled else len(self._flying)

    def _has_work(self) -> bool:
        return bool(self._buffer) or self.spooled > 0

    async def _run(self) -> None:
        delay = 0.0
        while True:
            if not self._has_work():
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
        # The spool holds the oldest items: it goes first. A memory batch is taken out
        # while in flight so that an overflow cannot drop it twice; it is put back in
        # front on failure, unless an overflow has spooled it meanwhile.
        token: int | None = None
        if self._spool is not None and len(self._spool):
            await self._spool.load()
            batch, token = self._spool.peek(self._batch_size)
            if not batch:
                return True  # only unreadable lines were left
        else:
            n = min(self._batch_size, len(self._buffer))
            batch = self._flying = [self._buffer.popleft() for _ in range(n)]
            self._flying_spilled = False
        if self._failing_since is None:
            self._failing_since = self._monotonic()
        try:
            written = await self._store(batch)
        except (psycopg.Error, OSError) as exc:
            self._put_back(token)
            self._counters.storage_errors.inc()
            log.warning("could not store %d %s, will retry: %s", len(batch), self._what, exc)
            return False
        except asyncio.CancelledError:
            self._put_back(token)
            raise
        self._flying = []
        self._failing_since = None
        if token is not None and self._spool is not None:
            self._spool.commit(token, len(batch))
        self._counters.written.inc(written)
        return True

    def _put_back(self, token: int | None) -> None:
        if token is None and not self._flying_spilled:
            self._buffer.extendleft(reversed(self._flying))
        self._flying = []

    def _overflow(self) -> None:
        """Memory is past its bound: the oldest items (in flight first) go to the spool."""
        if self._spool is None or self._disk_refused:
            self._buffer.popleft()
            self._counters.dropped.inc()
            return
        flying = [] if self._flying_spilled else self._flying
        moved = [self._buffer.popleft() for _ in range(min(self._batch_size, len(self._buffer)))]
        try:
            self._spool.append([*flying, *moved])
        except OSError as exc:
            # The disk refuses too: memory stays bounded, the oldest item is lost.
            log.error("spooling %s failed, dropping the oldest: %s", self._what, exc)
            self._disk_refused = True
            self._buffer.extendleft(reversed(moved))
            self._buffer.popleft()
            self._counters.dropped.inc()
            return
        self._flying_spilled = self._flying_spilled or bool(flying)
        self._wakeup.set()

    def _keep_rest(self) -> None:
        """At close: what the database did not take is spooled (or, without one, lost)."""
        rest = list(self._buffer)
        self._buffer.clear()
        if self._spool is not None:
            try:
                for i in range(0, len(rest), self._batch_size):
                    self._spool.append(rest[i : i + self._batch_size])
                rest = []
            except OSError as exc:
                log.error("spooling %s at shutdown failed: %s", self._what, exc)
            if len(self._spool):
                log.warning(
                    "%d %s kept in the spool for the next start", len(self._spool), self._what
                )
            self._spool.close()
        if rest:
            log.error("gave up flushing %d %s at shutdown", len(rest), self._what)
            self._counters.dropped.inc(len(rest))


RESULT_CODEC: Codec[ProbeResult] = Codec("results", result_to_row, result_from_row)


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
        spool: Spool[ProbeResult] | None = None,
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
            spool=spool,
        )
