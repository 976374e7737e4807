"""The writer with a spool: memory stays bounded, nothing is lost or reordered, and what
the database did not take at shutdown waits on disk for the next start."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import psycopg
from prometheus_client import CollectorRegistry, Counter

from monitor_center.spool import SpoolMetrics
from monitor_center.writer import BatchWriter, WriterCounters
from tests.outage.spools import NUMBERS, spool_at
from tests.waiting import wait_until


class Database:
    """Stores numbers; ``down`` refuses writes as an unreachable server would, and
    ``hold`` keeps the next write waiting until ``release``."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.down = False
        self.attempts = 0
        self._open = asyncio.Event()
        self._open.set()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    async def store(self, batch: Sequence[int]) -> int:
        self.attempts += 1
        await self._open.wait()
        if self.down:
            raise psycopg.OperationalError("connection refused")
        new = [n for n in batch if n not in self.rows]  # a unique key, ON CONFLICT DO NOTHING
        self.rows += new
        return len(new)


def _writer(db: Database, spool_dir: Path, registry: CollectorRegistry) -> BatchWriter[int]:
    counters = WriterCounters(
        Counter("written", "", registry=registry),
        Counter("dropped", "", registry=registry),
        Counter("errors", "", registry=registry),
    )
    spool = spool_at(spool_dir, NUMBERS, SpoolMetrics(registry))
    return BatchWriter(
        db.store,
        counters,
        what="numbers",
        batch_size=5,
        flush_interval=0.01,
        buffer_limit=20,
        retry_max=0.05,
        spool=spool,
    )


def _started_while_down(
    spool_dir: Path,
) -> tuple[Database, CollectorRegistry, BatchWriter[int]]:
    db, registry = Database(), CollectorRegistry()
    db.down = True
    writer = _writer(db, spool_dir, registry)
    writer.start()
    return db, registry, writer


def _spooled(registry: CollectorRegistry) -> float:
    return registry.get_sample_value("monitor_center_spooled_items_total", {"kind": "numbers"}) or 0


async def test_past_the_memory_bound_items_wait_on_disk_and_are_stored_in_order(
    tmp_path: Path,
) -> None:
    db, registry, writer = _started_while_down(tmp_path)
    for n in range(200):
        writer.submit(n)
        assert writer.pending - writer.spooled <= 20, "memory stays within its bound"
    assert writer.pending == 200 and _spooled(registry) >= 180
    await wait_until(_async(lambda: writer.failing_for() > 0), timeout=5, what="failing")
    db.down = False
    await asyncio.wait_for(writer.drained(), timeout=10)
    await writer.close()
    assert db.rows == list(range(200)), "every item once, in the order submitted"
    assert registry.get_sample_value("written_total") == 200
    assert registry.get_sample_value("dropped_total") == 0
    assert writer.failing_for() == 0
    assert not list(tmp_path.rglob("*.jsonl"))


async def test_a_batch_in_flight_when_memory_overflows_is_neither_lost_nor_doubled(
    tmp_path: Path,
) -> None:
    db, registry = Database(), CollectorRegistry()
    writer = _writer(db, tmp_path, registry)
    writer.start()
    db.hold()
    writer.submit(0)
    await wait_until(_async(lambda: db.attempts == 1), timeout=5, what="a write in flight")
    for n in range(1, 60):  # overflows while the first batch is in flight: it is spooled
        writer.submit(n)
    db.down = True
    db.release()  # ...and then fails
    await wait_until(_async(lambda: db.attempts > 3), timeout=5, what="retries")
    db.down = False
    await asyncio.wait_for(writer.drained(), timeout=10)
    await writer.close()
    assert db.rows == list(range(60))


async def test_what_the_database_did_not_take_at_shutdown_is_stored_at_the_next_start(
    tmp_path: Path,
) -> None:
    db, _, writer = _started_while_down(tmp_path)
    for n in range(12):  # under the memory bound: all of it in memory at shutdown
        writer.submit(n)
    await writer.close(timeout=0.5)
    assert db.rows == [] and list(tmp_path.rglob("*.jsonl"))
    db.down = False
    again = _writer(db, tmp_path, CollectorRegistry())
    assert again.pending == 0
    again.start()
    assert again.pending == 12
    again.submit(12)
    await asyncio.wait_for(again.drained(), timeout=10)
    await again.close()
    assert db.rows == list(range(13))
    assert not list(tmp_path.rglob("*.jsonl"))


async def test_failing_for_counts_from_the_start_of_the_first_write_that_has_not_succeeded(
    tmp_path: Path,
) -> None:
    db, registry = Database(), CollectorRegistry()
    now = [100.0]
    writer = BatchWriter(
        db.store,
        WriterCounters(*(Counter(n, "", registry=registry) for n in ("w", "d", "e"))),
        what="numbers",
        flush_interval=0.01,
        monotonic=lambda: now[0],
    )
    writer.start()
    db.hold()  # a database that stops answering, rather than refusing
    writer.submit(1)
    await wait_until(_async(lambda: db.attempts == 1), timeout=5, what="a write in flight")
    now[0] = 160.0
    assert writer.failing_for() == 60.0
    db.release()
    await asyncio.wait_for(writer.drained(), timeout=5)
    assert writer.failing_for() == 0.0
    await writer.close()


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    """A plain condition in the shape ``wait_until`` takes."""

    async def run() -> bool:
        return check()

    return run


async def test_when_the_disk_refuses_too_memory_stays_bounded_and_the_oldest_are_counted_lost(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the spool's directory should be")
    db, registry, writer = _started_while_down(blocked)
    for n in range(100):
        writer.submit(n)
        assert writer.pending <= 20, "memory stays within its bound"
    assert registry.get_sample_value("dropped_total") == 80
    db.down = False
    await asyncio.wait_for(writer.drained(), timeout=10)
    await writer.close()
    assert db.rows == list(range(80, 100)), "the newest kept, in order"
