"""Probe results in the database: batched, idempotent, read back intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from core.results import Latency, ProbeResult
from monitor_center.db.repositories import ProbeResultRepository
from monitor_center.metrics import Metrics
from monitor_center.writer import ResultWriter

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _results(n: int, endpoint: str = "ngsp-portal", ok: bool = True) -> list[ProbeResult]:
    return [
        ProbeResult(
            endpoint_id=endpoint,
            time=T0 + timedelta(seconds=i),
            ok=ok,
            status=200 if ok else 503,
            reason=None if ok else "status 503",
            latency=Latency(total=0.042, connect=0.001, tls=0.004, first_byte=0.03),
            cert_expiry_days=88.5,
        )
        for i in range(n)
    ]


async def test_a_replayed_batch_is_stored_once(pool: AsyncConnectionPool) -> None:
    repo = ProbeResultRepository(pool)
    batch = _results(500)
    assert await repo.insert_many(batch) == 500
    assert await repo.insert_many(batch) == 0
    assert await repo.count() == 500


async def test_results_read_back_with_every_field(pool: AsyncConnectionPool) -> None:
    repo = ProbeResultRepository(pool)
    await repo.insert_many(_results(3) + _results(2, endpoint="dvcqg-portal", ok=False))
    latest = await repo.latest_per_endpoint(T0 - timedelta(hours=1))
    assert set(latest) == {"ngsp-portal", "dvcqg-portal"}
    down = latest["dvcqg-portal"]
    assert (down.ok, down.status, down.reason) == (False, 503, "status 503")
    assert down.time == T0 + timedelta(seconds=1)
    assert abs(down.latency.total - 0.042) < 1e-6
    assert down.latency.tls is not None and abs(down.latency.tls - 0.004) < 1e-6
    assert down.cert_expiry_days == 88.5
    assert [r.time for r in await repo.recent("ngsp-portal", limit=2)] == [
        T0 + timedelta(seconds=2),
        T0 + timedelta(seconds=1),
    ]


async def test_the_writer_stores_everything_submitted(pool: AsyncConnectionPool) -> None:
    repo = ProbeResultRepository(pool)
    metrics = Metrics(CollectorRegistry())
    writer = ResultWriter(repo.insert_many, metrics, batch_size=100, flush_interval=0.05)
    metrics.watch_writer(lambda: writer.pending)
    for result in _results(1050):
        writer.submit(result)
    depth = "monitor_center_write_queue_depth"
    assert metrics.registry.get_sample_value(depth) == 1050
    writer.start()
    await writer.drained()
    await writer.close()
    assert await repo.count() == 1050
    assert metrics.registry.get_sample_value("monitor_center_results_written_total") == 1050
    assert metrics.registry.get_sample_value(depth) == 0


async def test_the_writer_keeps_a_batch_while_the_database_refuses_it(
    pool: AsyncConnectionPool, db_url: str
) -> None:
    repo = ProbeResultRepository(pool)
    metrics = Metrics(CollectorRegistry())
    refusals = 2

    async def flaky_store(batch: object) -> int:
        # A real database error (an undefined table) stands in for an outage.
        nonlocal refusals
        if refusals:
            refusals -= 1
            async with pool.connection() as conn:
                await conn.execute("SELECT * FROM no_such_table")
        return await repo.insert_many(batch)  # type: ignore[arg-type]

    writer = ResultWriter(flaky_store, metrics, batch_size=50, flush_interval=0.01, retry_max=0.05)
    writer.start()
    for result in _results(120):
        writer.submit(result)
    await writer.drained()
    await writer.close()
    assert await repo.count() == 120
    assert metrics.registry.get_sample_value("monitor_center_storage_errors_total") == 2
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(DISTINCT time) FROM probe_results").fetchone()
    assert row is not None and row[0] == 120
