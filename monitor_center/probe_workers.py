"""Probing in worker processes, so a big fleet uses every core.

One asyncio loop probes at most about 2,000 endpoints per second with a fresh connection
each, about 1,000 once scheduling and storage share the loop (aiohttp's per-connection
cost dominates); a national fleet at short intervals needs more. With
``MONITOR_PROBE_WORKERS=N`` the endpoints are split into N stable shards (crc32 of the
id), each probed by its own process running the same ``ProbeScheduler`` and
``HttpProber``. Results come back to the service process in batches over a pipe, so
state, metrics, storage and alerting stay in one place and see every result exactly once.
Fast re-probes (``Target.retry_interval``) run inside the worker that owns the endpoint,
so they never overlap its regular probes; their results travel in the same batches and
the worker's counters (skipped runs, re-probes) are mirrored in the service's registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from prometheus_client import CollectorRegistry, Counter

from collectors.http import HttpProber
from core.clock import SystemClock
from core.results import ProbeResult
from monitor_center.metrics import RETRY_OUTCOMES, SKIP_REASONS, Metrics
from monitor_center.runtime import run
from monitor_center.scheduling import ProbeScheduler, Target

log = logging.getLogger(__name__)

# Counters a worker keeps and the service mirrors:
# (attribute of Metrics, sample name, label name, label values).
_MIRRORED = (
    ("skipped_runs", "monitor_center_scheduler_skipped_runs_total", "reason", SKIP_REASONS),
    ("probe_retries", "monitor_center_probe_retries_total", "outcome", RETRY_OUTCOMES),
)

# Cumulative counter values by (attribute of Metrics, label value).
Totals = dict[tuple[str, str], float]

# (results, counter totals so far) or None once the worker has finished.
Batch = tuple[list[ProbeResult], Totals] | None


def counter_totals(metrics: Metrics) -> Totals:
    """The worker's mirrored counters; totals, not deltas, so a lost batch loses nothing."""
    return {
        (attr, value): metrics.registry.get_sample_value(sample, {label: value}) or 0.0
        for attr, sample, label, values in _MIRRORED
        for value in values
    }


def shard(targets: Sequence[Target], count: int) -> list[list[Target]]:
    """Split targets into ``count`` shards that do not change between restarts."""
    shards: list[list[Target]] = [[] for _ in range(count)]
    for target in targets:
        shards[zlib.crc32(target.spec.endpoint_id.encode()) % count].append(target)
    return shards


def _worker_main(targets: list[Target], conn: Connection, flush_interval: float) -> None:
    """Entry point of a worker process."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    run(_worker(targets, conn, flush_interval))


async def _worker(targets: list[Target], conn: Connection, flush_interval: float) -> None:
    clock = SystemClock()
    metrics = Metrics(CollectorRegistry())
    pending: list[ProbeResult] = []

    sent_totals: Totals = {}

    def flush() -> None:
        nonlocal sent_totals
        totals = counter_totals(metrics)
        if pending or totals != sent_totals:  # an idle shard sends nothing
            conn.send((pending.copy(), totals))
            pending.clear()
            sent_totals = totals

    async with HttpProber(clock=clock) as prober:
        scheduler = ProbeScheduler(prober, pending.append, metrics, clock)
        scheduler.set_targets(targets)
        scheduler.start()
        # Any message (or EOF) from the parent means stop. poll() only selects: the pipe
        # stays blocking, which Connection.send/recv of large batches rely on.
        while not conn.poll():
            await asyncio.sleep(flush_interval)
            flush()
        await scheduler.shutdown()
    flush()
    conn.send(None)


@dataclass
class _Worker:
    index: int
    targets: list[Target]
    process: BaseProcess | None = None
    conn: Connection | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    totals: Totals = field(default_factory=dict)


class ProbeWorkerPool:
    """Runs the probe schedule in ``count`` processes; same surface as ``ProbeScheduler``."""

    def __init__(
        self,
        count: int,
        on_result: Callable[[ProbeResult], None],
        metrics: Metrics,
        *,
        flush_interval: float = 0.05,
    ) -> None:
        if count < 1:
            raise ValueError("a worker pool needs at least one worker")
        self._count = count
        self._on_result = on_result
        self._metrics = metrics
        self._flush_interval = flush_interval
        self._workers: list[_Worker] = []
        self._stopping = False
        self._ctx = multiprocessing.get_context("spawn")

    @property
    def pids(self) -> list[int | None]:
        """Process ids of the workers, in shard order."""
        return [w.process.pid if w.process else None for w in self._workers]

    def set_targets(self, targets: Sequence[Target]) -> None:
        """Fix the shards; call before ``start`` (a reload restarts the pool)."""
        self._workers = [_Worker(i, s) for i, s in enumerate(shard(targets, self._count))]

    def start(self) -> None:
        for worker in self._workers:
            self._spawn(worker)

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Ask every worker to finish its probes in flight, collect their last results."""
        self._stopping = True
        for worker in self._workers:
            if worker.conn is not None and not worker.finished.is_set():
                with contextlib.suppress(OSError):
                    worker.conn.send("stop")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(w.finished.wait() for w in self._workers)), timeout
            )
        for worker in self._workers:
            await asyncio.to_thread(self._reap, worker)

    def _spawn(self, worker: _Worker) -> None:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main,
            args=(worker.targets, child, self._flush_interval),
            name=f"monitor-center-probe-{worker.index}",
            daemon=True,
        )
        process.start()
        child.close()
        worker.process, worker.conn = process, parent
        worker.totals = {}
        worker.finished.clear()
        loop = asyncio.get_running_loop()
        # A blocking reader thread per worker: simple, and recv() of a big batch never
        # sees a half-arrived message.
        threading.Thread(
            target=self._read_forever, args=(worker, parent, loop), daemon=True
        ).start()

    def _read_forever(
        self, worker: _Worker, conn: Connection, loop: asyncio.AbstractEventLoop
    ) -> None:
        while True:
            try:
                batch: Batch = conn.recv()
            except (EOFError, OSError):
                loop.call_soon_threadsafe(self._died, worker, conn)
                return
            if batch is None:
                loop.call_soon_threadsafe(worker.finished.set)
                return
            loop.call_soon_threadsafe(self._take, worker, batch)

    def _died(self, worker: _Worker, conn: Connection) -> None:
        worker.finished.set()
        if not self._stopping and worker.conn is conn:
            log.error("probe worker %d died; restarting it", worker.index)
            self._spawn(worker)

    def _take(self, worker: _Worker, batch: tuple[list[ProbeResult], Totals]) -> None:
        results, totals = batch
        for result in results:
            self._on_result(result)
        for key, total in totals.items():
            delta = total - worker.totals.get(key, 0.0)
            if delta > 0:
                attr, value = key
                counter: Counter = getattr(self._metrics, attr)
                counter.labels(value).inc(delta)
            worker.totals[key] = total

    @staticmethod
    def _reap(worker: _Worker) -> None:
        if worker.process is None:
            return
        worker.process.join(5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(5)
        if worker.conn is not None:
            worker.conn.close()
