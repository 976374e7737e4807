"""What the periodic alert rules read: probe latencies and counts, series samples.

Every method takes many subjects at once, so one rule evaluation over the whole
fleet costs one query, not one per endpoint or series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from alerts.rules import WindowCounts
from core.samples import Sample

# For each id, the newest row through the (id, time DESC) index: one index probe per
# id, where GROUP BY would scan every row the id ever had.
_LAST_PROBE = (
    "SELECT e.id, (SELECT max(time) FROM probe_results WHERE endpoint_id = e.id)"
    " FROM unnest(%s::text[]) AS e(id)"
)
_LAST_SAMPLE = (
    "SELECT s.id, (SELECT max(time) FROM series_samples WHERE series_id = s.id)"
    " FROM unnest(%s::text[]) AS s(id)"
)
_LATEST_SAMPLE = (
    "SELECT s.id, l.time, l.value FROM unnest(%s::text[]) AS s(id)"
    " CROSS JOIN LATERAL (SELECT time, value FROM series_samples WHERE series_id = s.id"
    " ORDER BY time DESC LIMIT 1) AS l"
)
# Windows are (now - w, now]; each probe row is counted once per window that holds it.
_WINDOW_COUNTS = (
    "SELECT p.endpoint_id, w.seconds, count(*), count(*) FILTER (WHERE NOT p.ok)"
    " FROM probe_results AS p"
    " JOIN unnest(%(windows)s::float8[]) AS w(seconds)"
    " ON p.time > %(now)s - make_interval(secs => w.seconds)"
    " WHERE p.endpoint_id = ANY(%(ids)s) AND p.time > %(start)s AND p.time <= %(now)s"
    " GROUP BY p.endpoint_id, w.seconds"
)


class RuleInputs:
    """Read-only queries over ``probe_results`` and ``series_samples`` for the rules."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def _rows(
        self, query: str, params: Sequence[object] | Mapping[str, object]
    ) -> list[tuple[object, ...]]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            return await cur.fetchall()

    async def latencies(
        self, endpoint_ids: Sequence[str], since: datetime
    ) -> dict[str, list[float]]:
        """Total latency (ms) of each endpoint's successful probes after `since`.

        Failed probes are left out: a timeout's latency is the timeout, not the service's.
        """
        rows = await self._rows(
            "SELECT endpoint_id, total_ms FROM probe_results"
            " WHERE endpoint_id = ANY(%s) AND ok AND time > %s ORDER BY endpoint_id, time",
            (list(endpoint_ids), since),
        )
        found: dict[str, list[float]] = {}
        for endpoint_id, total_ms in rows:
            found.setdefault(str(endpoint_id), []).append(float(str(total_ms)))
        return found

    async def window_counts(
        self, endpoint_ids: Sequence[str], now: datetime, windows: Sequence[float]
    ) -> dict[str, dict[float, WindowCounts]]:
        """Probes and failed probes per endpoint in each window ending at `now`.

        Every requested endpoint and window is in the answer (zero counts when empty).
        """
        if not endpoint_ids or not windows:
            return {endpoint_id: {} for endpoint_id in endpoint_ids}
        lengths = sorted({float(w) for w in windows})
        params = {
            "ids": list(endpoint_ids),
            "windows": lengths,
            "now": now,
            "start": now - _seconds(lengths[-1]),
        }
        counts = {e: {w: WindowCounts(0, 0) for w in lengths} for e in endpoint_ids}
        for endpoint_id, seconds, total, failed in await self._rows(_WINDOW_COUNTS, params):
            window = float(str(seconds))
            counts[str(endpoint_id)][window] = WindowCounts(int(str(total)), int(str(failed)))
        return counts

    async def last_probe_times(self, endpoint_ids: Sequence[str]) -> dict[str, datetime]:
        """Time of each endpoint's newest probe; endpoints never probed are absent."""
        return _times(await self._rows(_LAST_PROBE, (list(endpoint_ids),)))

    async def samples(
        self, series_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Sample]]:
        """Each series' samples with ``start <= time <= end``, oldest first."""
        rows = await self._rows(
            "SELECT series_id, time, value FROM series_samples"
            " WHERE series_id = ANY(%s) AND time >= %s AND time <= %s ORDER BY series_id, time",
            (list(series_ids), start, end),
        )
        found: dict[str, list[Sample]] = {}
        for series_id, time, value in rows:
            assert isinstance(time, datetime)
            found.setdefault(str(series_id), []).append(Sample(time, float(str(value))))
        return found

    async def last_sample_times(self, series_ids: Sequence[str]) -> dict[str, datetime]:
        """Time of each series' newest sample; series never sampled are absent."""
        return _times(await self._rows(_LAST_SAMPLE, (list(series_ids),)))

    async def latest_samples(self, series_ids: Sequence[str]) -> dict[str, Sample]:
        """Each series' newest sample; series never sampled are absent."""
        found: dict[str, Sample] = {}
        for series_id, time, value in await self._rows(_LATEST_SAMPLE, (list(series_ids),)):
            assert isinstance(time, datetime)
            found[str(series_id)] = Sample(time, float(str(value)))
        return found


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def _times(rows: list[tuple[object, ...]]) -> dict[str, datetime]:
    return {str(key): time for key, time in rows if isinstance(time, datetime)}
