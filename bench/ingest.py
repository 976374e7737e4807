"""Ingest: series samples through the center's writer (batched binary COPY) per second.

The same rows (``--samples`` readings of ``--series`` series, ten seconds apart) are
written three ways into a scratch database migrated like production:

* ours: ``SeriesWriter`` -> ``SeriesRepository.insert``, exactly the collection path
  (batches of ``write_batch_size``, a transaction each, COPY with the replay fallback);
* raw COPY into ``series_samples`` itself (same indexes, triggers and hypertable): one
  ``COPY`` of every row as they come, no batching, no sorting, no idempotency;
* raw COPY into a bare table (same columns, no index, no trigger, not a hypertable):
  the ceiling set by the server and the client's encoding alone.

Each is run ``repeats`` times, interleaved, on emptied tables, and the best run of each
is reported (as ``timeit`` does): on a shared machine the other runs measure the
neighbours as much as the code.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from bench.scratch import scratch_database
from bench.table import Row
from collectors.series import SeriesReading
from monitor_center.db import apply_migrations, open_pool
from monitor_center.db.repositories.series import SampleRow, SeriesRepository
from monitor_center.series.metrics import SeriesMetrics
from monitor_center.series.writer import SeriesWriter

TARGET = 100_000.0
SHARE_TARGET = 80.0
TIMESCALE_PUBLISHED = 225_000.0  # rows/s on 4 vCPU, the figure PRODUCT.md quotes
_COPY = "COPY {table} (series_id, time, value) FROM STDIN (FORMAT BINARY)"


def _readings(samples: int, series: int) -> list[SeriesReading]:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    ids = [f"series-{i:05d}" for i in range(series)]
    return [
        SeriesReading(ids[i % series], start + timedelta(seconds=10 * (i // series)), 1.5 * i)
        for i in range(samples)
    ]


async def _timed(
    prepare: Callable[[], Awaitable[None]], work: Callable[[], Awaitable[None]]
) -> float:
    await prepare()
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def _ours(pool: AsyncConnectionPool, readings: list[SeriesReading], batch: int) -> None:
    writer = SeriesWriter(
        SeriesRepository(pool).insert, SeriesMetrics(CollectorRegistry()), batch_size=batch
    )
    writer.start()
    for reading in readings:
        writer.submit(reading)
    await writer.drained()
    await writer.close()


async def _raw_copy(pool: AsyncConnectionPool, table: str, rows: list[SampleRow]) -> None:
    async with (
        pool.connection() as conn,
        conn.transaction(),
        conn.cursor() as cur,
        cur.copy(_COPY.format(table=table)) as copy,
    ):
        copy.set_types(("text", "timestamptz", "float8"))
        for row in rows:
            await copy.write_row(row)


async def _make_bare_table(pool: AsyncConnectionPool) -> bool:
    """The bare reference table; True when series_samples is a hypertable."""
    async with pool.connection() as conn:
        await conn.execute("CREATE TABLE raw_bare (series_id text, time timestamptz, value float8)")
        cur = await conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
        row = await cur.fetchone()
    return bool(row and row[0])


def _truncate(pool: AsyncConnectionPool, table: str) -> Callable[[], Awaitable[None]]:
    async def prepare() -> None:
        async with pool.connection() as conn:
            await conn.execute(f"TRUNCATE {table}")
            await conn.execute(f"VACUUM ANALYZE {table}")

    return prepare


async def _measure(
    samples: int, series: int, repeats: int, batch: int
) -> tuple[dict[str, float], bool]:
    readings = _readings(samples, series)
    rows: list[SampleRow] = [(r.series_id, r.time, r.value or 0.0) for r in readings]
    runs: dict[str, list[float]] = {"ours": [], "raw": [], "raw_bare": []}
    with scratch_database() as url:
        await apply_migrations(url)
        pool = await open_pool(url, min_size=1, max_size=2)
        try:
            hyper = await _make_bare_table(pool)
            work: dict[str, tuple[str, Callable[[], Awaitable[None]]]] = {
                "ours": ("series_samples", lambda: _ours(pool, readings, batch)),
                "raw": ("series_samples", lambda: _raw_copy(pool, "series_samples", rows)),
                "raw_bare": ("raw_bare", lambda: _raw_copy(pool, "raw_bare", rows)),
            }
            for repeat in range(repeats):
                # Alternate the order, so no way always runs right after the same one.
                order = list(work.items())
                for name, (table, job) in order if repeat % 2 == 0 else reversed(order):
                    runs[name].append(await _timed(_truncate(pool, table), job))
            await _timed(_truncate(pool, "series_samples"), lambda: _ours(pool, readings, batch))
            await _ours(pool, readings, batch)  # a replay of everything: stores nothing new
            stored = await SeriesRepository(pool).count()
        finally:
            await pool.close()
    if stored != samples:
        raise RuntimeError(f"the writer stored {stored} of {samples} samples")
    rates = {name: samples / min(times) for name, times in runs.items()}
    return rates, hyper


async def run(
    samples: int = 500_000, series: int = 1_000, repeats: int = 5, batch: int = 10_000
) -> list[Row]:
    """Measure the three ways; rows for the benchmark table."""
    print(f"ingest: {samples:,} samples of {series:,} series, best of {repeats} runs")
    rates, hyper = await _measure(samples, series, repeats, batch)
    layout = "hypertable" if hyper else "plain table"
    for name, rate in rates.items():
        print(f"  {name}: {rate:,.0f} samples/s")
    # Two cores shared with whatever else runs: the figures mean little without this.
    print(f"  load average after the runs: {os.getloadavg()[0]:.1f}")
    ours, like, bare = rates["ours"], rates["raw"], rates["raw_bare"]
    writer = f"SeriesWriter, batches of {batch:,}, binary COPY into a {layout}"
    return [
        # The reference is the same rows by one raw COPY, measured in the same run.
        Row(
            "ingest",
            "samples/s",
            TARGET,
            ours,
            like,
            "raw COPY into series_samples, same run",
            note=f"{writer}; TimescaleDB publishes ~{TIMESCALE_PUBLISHED:,.0f} rows/s on 4 vCPU",
        ),
        Row(
            "ingest vs raw COPY",
            "% of raw COPY",
            SHARE_TARGET,
            100 * ours / like,
            None,
            "",
            note="the row above as a share: the writer's rate / one raw COPY's",
        ),
        Row(
            "ingest",
            "samples/s",
            TARGET,
            ours,
            bare,
            "raw COPY into a bare table, same run",
            note="no index, trigger or hypertable: the ceiling the server and encoding set",
        ),
    ]
