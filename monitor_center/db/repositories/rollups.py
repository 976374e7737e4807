"""Rollups: bucket recomputation from raw rows, the marks the raw tables' triggers leave,
the buckets the job owes, and raw retention: the SQL of ``monitor_center.rollups`` (the two
bucket queries are in ``rollup_queries``).

Every statement of a job runs on one connection holding the job's advisory lock
(``RollupRepository.session``): two center processes never roll the same bucket at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from monitor_center.db.repositories.rollup_queries import ROLL_PROBES, ROLL_SERIES

Source = Literal["probe", "series"]
Resolution = Literal["hour", "day"]
SOURCES: tuple[Source, ...] = ("probe", "series")

RAW_TABLES: dict[Source, str] = {"probe": "probe_results", "series": "series_samples"}
_ROLLUP_TABLES: dict[Source, str] = {"probe": "probe_rollups", "series": "series_rollups"}
# An arbitrary constant ("MCRO"): all center processes serialize their rollup jobs on it.
_LOCK_KEY = 0x4D43_524F
# Interval assumed for results of an endpoint missing from the catalogue (config default).
_DEFAULT_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class BucketRow:
    """One bucket of one source: the rollup job's unit of work."""

    source: Source
    resolution: Resolution
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class RollParams:
    """What a bucket's numbers depend on besides the raw rows."""

    now: datetime
    carry_seconds: float
    lookback: timedelta


Expand = Callable[[Source, datetime], Iterable[BucketRow]]


class RollupRepository:
    """Opens job sessions; reads what a job needs before it starts."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def session(self, *, wait: bool) -> AsyncIterator[RollupSession | None]:
        """A session holding the job lock; ``None`` when busy elsewhere and not ``wait``."""
        async with self._pool.connection() as conn:
            if wait:
                await conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            else:
                cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,))
                row = await cur.fetchone()
                if not (row and row[0]):
                    yield None
                    return
            try:
                yield RollupSession(conn)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))

    async def stored_timezone(self) -> str | None:
        """The time zone the rollups were last computed in, if any."""
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT timezone FROM rollup_settings")
            row = await cur.fetchone()
            return None if row is None else str(row[0])


class RollupSession:
    """The rollup job's statements, on one connection that holds the job lock."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def _rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        cur = await self._conn.execute(query, params)
        return await cur.fetchall()

    async def remember(self, timezone: str, kinds: Mapping[str, str] | None) -> str | None:
        """Store the zone (and series kinds, when known); return the zone stored before.

        Rows are written only when they change: this runs at every pass.
        """
        async with self._conn.transaction():
            before = await self._rows("SELECT timezone FROM rollup_settings FOR UPDATE")
            await self._conn.execute(
                "INSERT INTO rollup_settings (timezone) VALUES (%s)"
                " ON CONFLICT (singleton) DO UPDATE SET timezone = EXCLUDED.timezone"
                " WHERE rollup_settings.timezone <> EXCLUDED.timezone",
                (timezone,),
            )
            if kinds:
                await self._conn.execute(
                    "INSERT INTO rollup_series_kinds (series_id, kind)"
                    " SELECT * FROM unnest(%s::text[], %s::text[])"
                    " ON CONFLICT (series_id) DO UPDATE SET kind = EXCLUDED.kind"
                    " WHERE rollup_series_kinds.kind <> EXCLUDED.kind",
                    (list(kinds), list(kinds.values())),
                )
        return str(before[0][0]) if before else None

    async def carry_seconds(self) -> float:
        """How far back a result's span can reach: twice the longest endpoint interval."""
        rows = await self._rows("SELECT max(interval_seconds) FROM endpoints")
        longest = rows[0][0] if rows and rows[0][0] is not None else _DEFAULT_INTERVAL_SECONDS
        return 2.0 * max(float(longest), _DEFAULT_INTERVAL_SECONDS)

    async def final_before(self) -> dict[Source, datetime | None]:
        """Per source: buckets starting before this are final (``None``: none are)."""
        rows = await self._rows("SELECT source, final_before FROM rollup_state")
        return {row[0]: row[1] for row in rows}

    async def absorb_marks(self, expand: Expand) -> int:
        """Turn the triggers' marks into pending buckets; return how many marks were read.

        One transaction: a crash leaves the marks in place. A mark is deleted only at the
        version read, so a writer that touched its slot meanwhile keeps it for next time.
        """
        async with self._conn.transaction():
            marks = await self._rows("SELECT source, slot, version FROM rollup_marks")
            if not marks:
                return 0
            owed = {bucket for source, slot, _ in marks for bucket in expand(source, slot)}
            await self.add_pending(owed)
            await self._conn.execute(
                "DELETE FROM rollup_marks AS m USING unnest(%s::text[], %s::timestamptz[],"
                " %s::bigint[]) AS r(source, slot, version)"
                " WHERE m.source = r.source AND m.slot = r.slot AND m.version = r.version",
                ([m[0] for m in marks], [m[1] for m in marks], [m[2] for m in marks]),
            )
            return len(marks)

    async def add_pending(self, buckets: Iterable[BucketRow]) -> None:
        rows = list(buckets)
        if not rows:
            return
        await self._conn.execute(
            "INSERT INTO rollup_pending (source, resolution, bucket, bucket_end)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[],"
            " %s::timestamptz[]) ON CONFLICT DO NOTHING",
            (
                [b.source for b in rows],
                [b.resolution for b in rows],
                [b.start for b in rows],
                [b.end for b in rows],
            ),
        )

    async def pending(self) -> list[BucketRow]:
        rows = await self._rows(
            "SELECT source, resolution, bucket, bucket_end FROM rollup_pending"
            " ORDER BY resolution DESC, bucket, source"
        )
        return [BucketRow(*row) for row in rows]

    async def forget_pending(self, buckets: Iterable[BucketRow]) -> None:
        """Drop buckets that will not be rolled (final, or not begun yet)."""
        await self._forget(list(buckets))

    async def _forget(self, rows: list[BucketRow]) -> None:
        if rows:
            await self._conn.execute(
                "DELETE FROM rollup_pending WHERE (source, resolution, bucket) IN"
                " (SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[]))",
                ([b.source for b in rows], [b.resolution for b in rows], [b.start for b in rows]),
            )

    async def roll(self, bucket: BucketRow, params: RollParams) -> int:
        """Recompute one bucket whole (delete, insert) and settle what it owed, atomically."""
        table = _ROLLUP_TABLES[bucket.source]
        query = ROLL_PROBES if bucket.source == "probe" else ROLL_SERIES
        async with self._conn.transaction():
            # Rollups can always be recomputed, and what they settle is in this transaction:
            # losing the last commits in a server crash only means rolling them again.
            await self._conn.execute("SET LOCAL synchronous_commit = off")
            await self._conn.execute(
                f"DELETE FROM {table} WHERE resolution = %s AND bucket = %s",
                (bucket.resolution, bucket.start),
            )
            cur = await self._conn.execute(
                query,
                {
                    "resolution": bucket.resolution,
                    "start": bucket.start,
                    "end": bucket.end,
                    "now": params.now,
                    "carry": params.carry_seconds,
                    "default": _DEFAULT_INTERVAL_SECONDS,
                    "lookback": params.lookback,
                },
            )
            written = cur.rowcount
            await self._forget([bucket])
        return written

    async def nothing_between(
        self, source: Source, start: datetime, end: datetime, reach: timedelta
    ) -> bool:
        """No raw rows in [start - reach, end) and no rollups starting in [start, end)."""
        rows = await self._rows(
            f"SELECT NOT EXISTS (SELECT 1 FROM {RAW_TABLES[source]}"
            "  WHERE time >= %(lo)s AND time < %(end)s)"
            f" AND NOT EXISTS (SELECT 1 FROM {_ROLLUP_TABLES[source]}"
            "  WHERE resolution = ANY('{hour,day}') AND bucket >= %(start)s"
            "  AND bucket < %(end)s)",
            {"lo": start - reach, "start": start, "end": end},
        )
        return bool(rows[0][0])

    async def earliest_owed(self, source: Source) -> datetime | None:
        """The oldest time whose buckets may still need rolling (pending or marked)."""
        rows = await self._rows(
            "SELECT least((SELECT min(bucket) FROM rollup_pending WHERE source = %(s)s),"
            " (SELECT min(slot) FROM rollup_marks WHERE source = %(s)s))",
            {"s": source},
        )
        return rows[0][0] if rows else None

    async def finalize(self, source: Source, before: datetime) -> None:
        """Buckets before ``before`` become final (never moved backwards)."""
        await self._conn.execute(
            "UPDATE rollup_state SET final_before = greatest(final_before, %s) WHERE source = %s",
            (before, source),
        )

    async def is_hypertable(self, table: str) -> bool:
        rows = await self._rows("SELECT to_regclass('timescaledb_information.hypertables')")
        if not rows or rows[0][0] is None:
            return False
        found = await self._rows(
            "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = %s",
            (table,),
        )
        return bool(found)

    async def drop_chunks(self, table: str, before: datetime) -> int:
        """TimescaleDB: drop the chunks that end before ``before``; return how many."""
        rows = await self._rows(
            "SELECT drop_chunks(%s::regclass, older_than => %s)", (table, before)
        )
        return len(rows)

    async def delete_raw(self, table: str, before: datetime, batch: int) -> int:
        """Plain PostgreSQL: delete rows older than ``before`` in short transactions."""
        deleted = 0
        while True:
            cur = await self._conn.execute(
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
                f"SELECT ctid FROM {table} WHERE time < %s LIMIT %s))",
                (before, batch),
            )
            deleted += cur.rowcount
            if cur.rowcount < batch:
                return deleted
