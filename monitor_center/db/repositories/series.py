"""Series samples and read errors: COPY in (idempotent), latest, recent, buckets out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter

import psycopg
from psycopg_pool import AsyncConnectionPool

from core.samples import Sample

SampleRow = tuple[str, datetime, float]
"""(series_id, time, value): plain tuples, because ingest makes millions of them."""

ErrorRow = tuple[str, datetime, str, str]
"""(series_id, time, reason, message)."""

_COPY_TYPES = ("text", "timestamptz", "float8")
_INDEX_ORDER = itemgetter(0, 1)
_COPY = "COPY {table} (series_id, time, value) FROM STDIN (FORMAT BINARY)"

_LATEST = (
    "SELECT s.id, l.time, l.value FROM unnest(%s::text[]) AS s(id)"
    " CROSS JOIN LATERAL (SELECT time, value FROM series_samples WHERE series_id = s.id"
    " ORDER BY time DESC LIMIT 1) AS l"
)
_LAST_ERRORS = (
    "SELECT s.id, e.time, e.reason, e.message FROM unnest(%s::text[]) AS s(id)"
    " CROSS JOIN LATERAL (SELECT time, reason, message FROM series_errors"
    " WHERE series_id = s.id ORDER BY time DESC LIMIT 1) AS e"
)
# One pass over [start, end) plus the sample just before start, so that the first
# bucket's increase includes the step from that sample. Each consecutive pair adds to
# the bucket of its later sample; a drop is a counter reset and adds the value after
# it (Prometheus rate() semantics), so bucket increases sum to the range's increase.
_POINTS = """
WITH raw AS (
    SELECT time, value, lag(value) OVER (ORDER BY time) AS prev
    FROM series_samples
    WHERE series_id = %(id)s AND time < %(end)s
      AND time >= coalesce((SELECT max(time) FROM series_samples
                            WHERE series_id = %(id)s AND time < %(start)s), %(start)s)
)
SELECT date_bin(%(step)s, time, %(origin)s) AS bucket, count(*), min(value), max(value),
       avg(value), (array_agg(value ORDER BY time DESC))[1],
       sum(CASE WHEN prev IS NULL THEN 0 WHEN value >= prev THEN value - prev
                ELSE value END)
FROM raw WHERE time >= %(start)s
GROUP BY bucket ORDER BY bucket
"""


@dataclass(frozen=True, slots=True)
class LastError:
    """The most recent failed read of a series."""

    time: datetime
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Bucket:
    """Aggregates of one ``step`` of raw samples; ``increase`` is counter-style."""

    time: datetime
    samples: int
    min: float
    max: float
    avg: float
    last: float
    increase: float


class SeriesRepository:
    """Writes and reads ``series_samples`` and ``series_errors``."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def insert(self, samples: Sequence[SampleRow], errors: Sequence[ErrorRow] = ()) -> int:
        """Store samples and errors in one transaction; return how many samples were new.

        Samples are COPYed straight into the table, the fast path for the usual batch
        of new readings. When that trips the unique index (a replayed batch, a repeated
        push) the transaction is rolled back and done again through a staging table and
        ``INSERT ... ON CONFLICT DO NOTHING``: the value stored first for a (series,
        time) stays, within the batch too. (A retry rather than a savepoint: a savepoint
        would make every fast-path batch a subtransaction.)
        """
        if not samples and not errors:
            return 0
        async with self._pool.connection() as conn:
            try:
                async with conn.transaction():
                    inserted = await _copy(conn, "series_samples", samples)
                    await _insert_errors(conn, errors)
            except psycopg.errors.UniqueViolation:
                async with conn.transaction():
                    inserted = await _insert_staged(conn, samples)
                    await _insert_errors(conn, errors)
            return inserted

    async def latest(self, series_ids: Sequence[str]) -> dict[str, Sample]:
        """The newest sample of each series that has one."""
        rows = await self._rows(_LATEST, (list(series_ids),))
        return {str(i): Sample(_time(t), float(str(v))) for i, t, v in rows}

    async def since(self, series_ids: Sequence[str], since: datetime) -> dict[str, list[Sample]]:
        """Each series' samples after ``since``, oldest first (for rates)."""
        rows = await self._rows(
            "SELECT series_id, time, value FROM series_samples"
            " WHERE series_id = ANY(%s) AND time > %s ORDER BY series_id, time",
            (list(series_ids), since),
        )
        found: dict[str, list[Sample]] = {}
        for series_id, time, value in rows:
            found.setdefault(str(series_id), []).append(Sample(_time(time), float(str(value))))
        return found

    async def last_errors(self, series_ids: Sequence[str]) -> dict[str, LastError]:
        """The most recent error of each series that ever had one."""
        rows = await self._rows(_LAST_ERRORS, (list(series_ids),))
        return {str(i): LastError(_time(t), str(r), str(m)) for i, t, r, m in rows}

    async def buckets(
        self, series_id: str, start: datetime, end: datetime, step: timedelta, origin: datetime
    ) -> list[Bucket]:
        """Raw samples in ``[start, end)`` grouped by ``date_bin(step, time, origin)``.

        Empty buckets are left out. ``origin`` fixes the grid (e.g. local midnight).
        """
        params = {"id": series_id, "start": start, "end": end, "step": step, "origin": origin}
        rows = await self._rows(_POINTS, params)
        return [
            Bucket(_time(b), int(str(n)), *(float(str(x)) for x in (lo, hi, avg, last, inc)))
            for b, n, lo, hi, avg, last, inc in rows
        ]

    async def count(self, series_id: str | None = None) -> int:
        """How many samples are stored (for one series, or in all)."""
        query = "SELECT count(*) FROM series_samples"
        rows = await (
            self._rows(query, ())
            if series_id is None
            else self._rows(query + " WHERE series_id = %s", (series_id,))
        )
        return int(str(rows[0][0]))

    async def _rows(
        self, query: str, params: Sequence[object] | dict[str, object]
    ) -> list[tuple[object, ...]]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            return await cur.fetchall()


async def _insert_staged(
    conn: psycopg.AsyncConnection[tuple[object, ...]], samples: Sequence[SampleRow]
) -> int:
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS series_samples_stage"
        " (LIKE series_samples) ON COMMIT DELETE ROWS"
    )
    await _copy(conn, "series_samples_stage", _first_per_time(samples))
    cur = await conn.execute(
        "INSERT INTO series_samples (series_id, time, value)"
        " SELECT series_id, time, value FROM series_samples_stage ON CONFLICT DO NOTHING"
    )
    return cur.rowcount


async def _insert_errors(
    conn: psycopg.AsyncConnection[tuple[object, ...]], errors: Sequence[ErrorRow]
) -> None:
    if errors:
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO series_errors (series_id, time, reason, message)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                errors,
            )


async def _copy(
    conn: psycopg.AsyncConnection[tuple[object, ...]], table: str, rows: Sequence[SampleRow]
) -> int:
    # Binary COPY: no text formatting of timestamps and floats on either side. Rows go
    # in index order: readings arrive time-major (every series at one instant), which
    # would touch a different leaf of the (series_id, time) index on every row. The
    # sort is stable, so duplicates keep their order (the first one still wins).
    if not rows:
        return 0
    async with conn.cursor() as cur:
        async with cur.copy(_COPY.format(table=table)) as copy:
            copy.set_types(_COPY_TYPES)
            for row in sorted(rows, key=_INDEX_ORDER):
                await copy.write_row(row)
        return cur.rowcount


def _first_per_time(samples: Sequence[SampleRow]) -> list[SampleRow]:
    """Drop later duplicates of a (series, time) within one batch: the first one wins."""
    seen: set[tuple[str, datetime]] = set()
    kept: list[SampleRow] = []
    for row in samples:
        key = (row[0], row[1])
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _time(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value
