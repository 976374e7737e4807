"""Rows inserted directly for the SLA tests: catalogue, rollups, raw results, windows,
alerts and series. Times are local (Asia/Ho_Chi_Minh) unless they carry an offset."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg_pool import AsyncConnectionPool

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def at(text: str) -> datetime:
    """``2026-10-05 10:30`` in the center's zone (or as given when it has an offset)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=LOCAL)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL)


async def catalog(
    pool: AsyncConnectionPool,
    agencies: Sequence[tuple[str, str, str]],
    endpoints: Sequence[tuple[str, str]],
    interval: float = 60.0,
) -> None:
    """``agencies``: (id, name, kind); ``endpoints``: (id, agency)."""
    async with pool.connection() as conn:
        for a in agencies:
            await conn.execute("INSERT INTO agencies (id, name, kind) VALUES (%s, %s, %s)", a)
        for e in endpoints:
            await conn.execute(
                "INSERT INTO endpoints (id, agency_id, url, interval_seconds, timeout_seconds)"
                " VALUES (%s, %s, 'http://127.0.0.1:9/', %s, 5)",
                (*e, interval),
            )


async def rollup(
    pool: AsyncConnectionPool,
    endpoint: str,
    resolution: str,
    bucket: datetime,
    figures: tuple[int, int, float, float],
    rolled_at: datetime | None = None,
) -> None:
    """``figures``: (total, ok, downtime_seconds, covered_seconds)."""
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO probe_rollups (endpoint_id, resolution, bucket, total, ok,"
            " downtime_seconds, covered_seconds, rolled_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()))",
            (endpoint, resolution, bucket, *figures, rolled_at),
        )


async def full_days(
    pool: AsyncConnectionPool, endpoint: str, first: date, days: int, downtime: float = 0.0
) -> None:
    """Day rollups with every second covered (and ``downtime`` down) for each day."""
    for i in range(days):
        down = round(downtime / 60)
        figures = (1440, 1440 - down, downtime, 86_400.0)
        await rollup(pool, endpoint, "day", midnight(first + timedelta(days=i)), figures)


async def full_hours(pool: AsyncConnectionPool, endpoint: str, first: datetime, hours: int) -> None:
    for i in range(hours):
        await rollup(pool, endpoint, "hour", first + timedelta(hours=i), (60, 60, 0.0, 3600.0))


async def results(
    pool: AsyncConnectionPool, endpoint: str, rows: Sequence[tuple[datetime, bool]]
) -> None:
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO probe_results (time, endpoint_id, ok, total_ms) VALUES (%s, %s, %s, 10)",
            [(t, endpoint, ok) for t, ok in rows],
        )


def every_minute(
    start: datetime, minutes: int, failing: Sequence[int] = ()
) -> list[tuple[datetime, bool]]:
    """One result a minute from ``start``; the minutes listed in ``failing`` fail."""
    bad = set(failing)
    return [(start + timedelta(minutes=i), i not in bad) for i in range(minutes)]


async def window(
    pool: AsyncConnectionPool,
    starts: datetime,
    ends: datetime,
    *,
    agency: str | None = None,
    endpoint: str | None = None,
    recurring: str | None = None,
) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO maintenance_windows (agency_id, endpoint_id, starts_at, ends_at,"
            " recurring, created_at) VALUES (%s, %s, %s, %s, %s, now())",
            (agency, endpoint, starts, ends, recurring),
        )


async def alert(
    pool: AsyncConnectionPool,
    endpoint: str,
    agency: str,
    fired: datetime | None,
    resolved: datetime | None = None,
    acknowledged: datetime | None = None,
    kind: str = "endpoint_down",
) -> None:
    state = "pending" if fired is None else "firing" if resolved is None else "resolved"
    started = fired or at("2026-10-01 00:00")
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO alerts (rule_id, rule_kind, subject, agency_id, severity, state,"
            " started_at, fired_at, resolved_at, acknowledged_at, acknowledged_by, updated_at)"
            " VALUES (%s, %s, %s, %s, 'critical', %s, %s, %s, %s, %s, %s, now())",
            (
                f"{kind}-{state}", kind, endpoint, agency, state, started - timedelta(seconds=30),
                fired, resolved, acknowledged, "truc-ban" if acknowledged else None,
            ),
        )  # fmt: skip


async def series_sample(
    pool: AsyncConnectionPool, series: str, time: datetime, value: float
) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO series_samples (series_id, time, value) VALUES (%s, %s, %s)",
            (series, time, value),
        )


async def series_day(pool: AsyncConnectionPool, series: str, day: date, increase: float) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO series_rollups (series_id, resolution, bucket, samples, min, max, avg,"
            " last, increase) VALUES (%s, 'day', %s, 1440, 0, %s, 0, %s, %s)",
            (series, midnight(day), increase, increase, increase),
        )
