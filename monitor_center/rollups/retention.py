"""Raw retention: drop probe results and series samples older than N days, keep rollups.

Order matters. Under the job lock: (1) a full rollup pass, so every bucket about to lose
its raw rows is rolled; (2) the cut-off is pulled back before anything still owed (a
pending bucket or an unread mark), so unrolled rows are never dropped; (3) the buckets
before the cut-off are made final, *before* dropping, so that a drop interrupted half-way
never lets a later pass re-roll a bucket from half its rows; (4) the drop itself:
``drop_chunks`` on a TimescaleDB hypertable, batched ``DELETE`` on a plain table.

One day of raw rows more than the buckets made final is kept: the first bucket after the
cut-off still finds the results whose spans reach into it and its counter baselines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor_center.db.repositories.rollups import (
    RAW_TABLES,
    SOURCES,
    RollupRepository,
    RollupSession,
    Source,
)
from monitor_center.rollups.buckets import HOUR, bucket_end, bucket_start
from monitor_center.rollups.job import RollupJob, RollupReport, RollupScope

DELETE_BATCH = 50_000


@dataclass(frozen=True, slots=True)
class Dropped:
    """What retention removed from one raw table."""

    source: Source
    table: str
    before: datetime
    chunks: int | None = None
    """TimescaleDB: chunks dropped (row counts are not known without scanning them)."""
    rows: int | None = None
    """Plain PostgreSQL: rows deleted."""


@dataclass(frozen=True, slots=True)
class RetentionReport:
    rolled: RollupReport
    dropped: list[Dropped]


async def enforce_retention(
    repo: RollupRepository, job: RollupJob, scope: RollupScope, now: datetime, days: int
) -> RetentionReport:
    """Roll what is owed, then drop raw rows older than ``days`` (from local midnight)."""
    async with repo.session(wait=True) as session:
        assert session is not None
        rolled = await job.pass_in(session, scope, now)
        return RetentionReport(rolled, await drop_raw(session, scope.zone, now, days))


async def drop_raw(
    session: RollupSession, zone: ZoneInfo, now: datetime, days: int
) -> list[Dropped]:
    """Drop raw rows older than ``days``, but none that a bucket still owed needs."""
    keep_from = bucket_start(now - timedelta(days=days), "day", zone)
    final = bucket_end(keep_from, "day", zone)
    return [await _drop(session, source, final, zone) for source in SOURCES]


async def _drop(session: RollupSession, source: Source, final: datetime, zone: ZoneInfo) -> Dropped:
    owed = await session.earliest_owed(source)
    if owed is not None:
        # A day's margin before what is owed: a mark reaches buckets before its slot.
        final = min(final, bucket_start(owed - timedelta(days=1), "day", zone))
    before = bucket_start(final - HOUR, "day", zone)  # the midnight a day earlier
    await session.finalize(source, final)
    table = RAW_TABLES[source]
    if await session.is_hypertable(table):
        return Dropped(source, table, before, chunks=await session.drop_chunks(table, before))
    rows = await session.delete_raw(table, before, DELETE_BATCH)
    return Dropped(source, table, before, rows=rows)
