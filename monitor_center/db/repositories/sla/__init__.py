"""Reads for SLA history: catalogue, rollups, raw results, maintenance windows,
endpoint_down alerts and KPI series values.

Times cross this boundary as epoch seconds (``float``). Rollups and results are written
in time order (bucket by bucket), so a time range of the whole fleet sits on few pages,
while one endpoint's rows are spread over many: sums are taken in SQL over time ranges
shared by many endpoints, and per endpoint only for stretches few endpoints need.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from monitor_center.db.repositories.sla import sql
from monitor_center.db.repositories.sla.rows import (
    AlertIncidentRow,
    CatalogAgency,
    CatalogEndpoint,
    DayRequest,
    DayTotals,
    FailedRun,
    Interval,
    SeriesFigures,
    Stretch,
    Totals,
    WindowRow,
)

WIDE = 20
"""A time range asked for this many endpoints or more is read for the whole fleet."""


__all__ = [
    "WIDE",
    "AlertIncidentRow",
    "CatalogAgency",
    "CatalogEndpoint",
    "DayRequest",
    "DayTotals",
    "FailedRun",
    "Interval",
    "SeriesFigures",
    "SlaRepository",
    "Stretch",
    "Totals",
    "WindowRow",
]


def _split(
    stretches: Sequence[Stretch],
) -> tuple[list[Interval], list[list[str]], dict[str, Any], dict[Any, int]]:
    """The wide ranges with their endpoints, the narrow query's parameters, and
    (pos, eid) -> stretch index."""
    by_range: dict[Interval, list[int]] = defaultdict(list)
    for i, s in enumerate(stretches):
        by_range[(s.lo, s.hi)].append(i)
    wide = [r for r, members in by_range.items() if len(members) >= WIDE]
    narrow = [i for members in by_range.values() if len(members) < WIDE for i in members]
    index: dict[Any, int] = {
        (g, stretches[i].endpoint_id): i for g, r in enumerate(wide) for i in by_range[r]
    }
    index.update({(k, None): i for k, i in enumerate(narrow)})
    params = {
        "ids": [stretches[i].endpoint_id for i in narrow],
        "lo": [stretches[i].lo for i in narrow],
        "hi": [stretches[i].hi for i in narrow],
    }
    members = [[stretches[i].endpoint_id for i in by_range[r]] for r in wide]
    return wide, members, params, index


def _branches(
    template: str, ranges: Sequence[Interval], members: Sequence[list[str]]
) -> tuple[str, dict[str, Any]]:
    """One UNION ALL branch per range: bounds ``lo{i}``/``hi{i}``, endpoints ``ids{i}``."""
    params: dict[str, Any] = {}
    for i, ((lo, hi), ids) in enumerate(zip(ranges, members, strict=True)):
        params.update({f"lo{i}": lo, f"hi{i}": hi, f"ids{i}": ids})
    return " UNION ALL ".join(template.format(i=i) for i in range(len(ranges))), params


class SlaRepository:
    """Read-only queries behind the SLA computation, incidents and scorecard."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def _rows(
        self, query: str, params: Any, binary: bool = False, timezone: str = "UTC"
    ) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn, conn.transaction():
            # Short reads where latency counts: compiling (JIT) and starting parallel
            # workers cost more than they save (100-250 ms a query, measured), and with
            # the default work_mem the sums per endpoint sort instead of hashing.
            await conn.execute(
                "SELECT set_config('jit', 'off', true),"
                " set_config('max_parallel_workers_per_gather', '0', true),"
                " set_config('work_mem', '64MB', true), set_config('TimeZone', %s, true)",
                (timezone,),
            )
            cur = await conn.execute(query, params, binary=binary)
            return await cur.fetchall()

    async def agencies(self, ids: Sequence[str] | None = None) -> list[CatalogAgency]:
        """The given agencies (active or not), or every active one."""
        rows = await self._rows(
            "SELECT id, name, kind FROM agencies WHERE CASE WHEN %(ids)s::text[] IS NULL"
            " THEN active ELSE id = ANY(%(ids)s) END ORDER BY kind, id",
            {"ids": None if ids is None else list(ids)},
        )
        return [CatalogAgency(*row) for row in rows]

    async def endpoints(self, agency_ids: Sequence[str]) -> list[CatalogEndpoint]:
        rows = await self._rows(
            "SELECT id, agency_id, interval_seconds, active FROM endpoints"
            " WHERE agency_id = ANY(%s) ORDER BY agency_id, id",
            (list(agency_ids),),
        )
        return [CatalogEndpoint(*row) for row in rows]

    async def maintenance(self, lo: float, hi: float) -> list[WindowRow]:
        """Windows that may overlap ``[lo, hi)`` (recurring ones: any that began before)."""
        rows = await self._rows(
            "SELECT agency_id, endpoint_id, date_part('epoch', starts_at),"
            " date_part('epoch', ends_at), recurring FROM maintenance_windows"
            " WHERE starts_at < to_timestamp(%s)"
            " AND (recurring IS NOT NULL OR ends_at > to_timestamp(%s))",
            (hi, lo),
        )
        return [WindowRow(*row) for row in rows]

    async def day_totals(self, request: DayRequest) -> list[DayTotals]:
        """Summed day rollups, one row per endpoint (or per day with ``per_day``)."""
        if not request.endpoint_ids:
            return []
        params = {
            "ids": request.endpoint_ids,
            "x_ids": [e for e, _ in request.excluded],
            "x_buckets": [b for _, b in request.excluded],
            "lo": request.lo,
            "hi": request.hi,
            "tz": request.timezone,
            "per_day": request.per_day,
        }
        narrow = len(request.endpoint_ids) < WIDE
        scope = "AND r.endpoint_id = ANY(%(ids)s)" if narrow else ""
        query = sql.DAY_TOTALS.format(scope=scope)
        rows = await self._rows(query, params, binary=True, timezone=request.timezone)
        wanted = set(request.endpoint_ids)
        return [DayTotals(*row) for row in rows if row[0] in wanted]

    async def _stretch_sums(
        self, stretches: Sequence[Stretch], outer: str, sources: tuple[str, str], extra: Any
    ) -> list[Totals]:
        wide, members, narrow, index = _split(stretches)
        queries = []
        if wide:
            source, params = _branches(sources[0], wide, members)
            queries.append((outer.format(source=source), {**params, **extra}))
        if narrow["lo"]:
            queries.append((outer.format(source=sources[1]), {**narrow, **extra}))
        found: list[Totals] = []
        for query, params in queries:
            for pos, eid, *sums in await self._rows(query, params, binary=True):
                i = index.get((pos, eid))
                if i is not None:  # a wide range also returns endpoints nobody asked for
                    found.append(Totals(i, *sums))
        return found

    async def hour_totals(self, stretches: Sequence[Stretch]) -> list[Totals]:
        """Summed complete hour rollups inside each stretch (none: left out)."""
        return await self._stretch_sums(
            stretches, sql.HOURS, (sql.HOURS_WIDE, sql.HOURS_NARROW), {}
        )

    async def raw_totals(self, stretches: Sequence[Stretch], stale: float) -> list[Totals]:
        """Probes, ok, downtime and covered seconds of raw results inside each stretch;
        a result goes stale after ``stale`` intervals of its endpoint."""
        if not stretches:
            return []
        longest = await self._rows("SELECT coalesce(max(interval_seconds), 0) FROM endpoints", ())
        extra = {"stale": stale, "lookback": stale * float(longest[0][0])}
        return await self._stretch_sums(stretches, sql.RAW, (sql.RAW_WIDE, sql.RAW_NARROW), extra)

    async def alert_history_exists(self, before: datetime) -> bool:
        """Whether endpoint_down alerting was in operation by then (it left a row)."""
        rows = await self._rows(
            "SELECT EXISTS (SELECT 1 FROM alerts WHERE rule_kind = 'endpoint_down'"
            " AND started_at < %s)",
            (before,),
        )
        return bool(rows[0][0])

    async def alert_incidents(
        self, endpoint_ids: Sequence[str], start: datetime, end: datetime
    ) -> list[AlertIncidentRow]:
        """endpoint_down alerts that fired and overlap ``[start, end)``."""
        rows = await self._rows(
            "SELECT id, subject, fired_at, resolved_at, acknowledged_at, acknowledged_by"
            " FROM alerts WHERE rule_kind = 'endpoint_down' AND fired_at IS NOT NULL"
            " AND subject = ANY(%s) AND fired_at < %s"
            " AND (resolved_at IS NULL OR resolved_at > %s) ORDER BY fired_at, id",
            (list(endpoint_ids), end, start),
        )
        return [AlertIncidentRow(*row) for row in rows]

    async def failed_runs(self, stretches: Sequence[Stretch], min_failures: int) -> list[FailedRun]:
        """Runs of at least ``min_failures`` consecutive failed results in the stretches,
        each ended by the next ok result (looked for past the stretch too)."""
        if not stretches:
            return []
        ids, los, his = zip(*stretches, strict=True)
        rows = await self._rows(sql.FAILED_RUNS, (list(ids), list(los), list(his), min_failures))
        return [FailedRun(*row) for row in rows]

    async def series_figures(
        self, series_ids: Sequence[str], start: datetime, end: datetime
    ) -> list[SeriesFigures]:
        """Per series: the latest value in the period (raw, else rollups) and the summed
        increases of its day and hour rollups."""
        if not series_ids:
            return []
        params = {"ids": list(series_ids), "start": start, "end": end}
        return [SeriesFigures(*row) for row in await self._rows(sql.SERIES, params)]
