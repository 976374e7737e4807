"""SLA report: a month over 1,000 endpoints from a year of day and hour rollups.

Fills a scratch database with COPY (a year of day rollups and hour rollups per endpoint,
a few percent of days with downtime, weekly maintenance on some agencies, raw results for
the newest hour), then times ``compute_sla`` for every agency (what ``GET /api/v1/sla``
and ``monitor-center sla report --all`` run): median of several runs after a warm-up.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg_pool import AsyncConnectionPool

from bench.scratch import scratch_database
from bench.table import Row
from monitor_center.db import apply_migrations, open_pool
from monitor_center.db.repositories.sla import SlaRepository
from monitor_center.sla import Period, SlaQuery, compute_sla

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TARGET_MS = 500.0
REFERENCE_MS = 15_000.0  # the fast end of 15-45 s
REFERENCE = "Gatus/Uptime Kuma status pages 15-45 s at 700-900 monitors (PRODUCT.md)"
AGENCIES = 88  # 3 platforms, 22 ministries, 63 provinces


def _kind(i: int) -> str:
    return "platform" if i < 3 else "ministry" if i < 25 else "province"


def _catalog(conn: psycopg.Connection[tuple[object, ...]], endpoints: int) -> list[str]:
    with conn.cursor().copy("COPY agencies (id, name, kind) FROM STDIN") as copy:
        for i in range(AGENCIES):
            copy.write_row((f"ag-{i:02d}", f"Cơ quan {i:02d}", _kind(i)))
    ids = [f"ep-{i:04d}" for i in range(endpoints)]
    with conn.cursor().copy(
        "COPY endpoints (id, agency_id, url, interval_seconds, timeout_seconds) FROM STDIN"
    ) as copy:
        for i, eid in enumerate(ids):
            copy.write_row((eid, f"ag-{i % AGENCIES:02d}", "http://127.0.0.1:9/", 60, 10))
    return ids


def _bad_days(ids: list[str], days: int) -> list[dict[int, int]]:
    """Per endpoint, about 8 days a year with some downtime (1, 5 or 30 minutes)."""
    rng = random.Random(7)
    return [{rng.randrange(days): rng.choice((60, 300, 1800)) for _ in range(8)} for _ in ids]


def _rollups(
    conn: psycopg.Connection[tuple[object, ...]], ids: list[str], first: date, now: datetime
) -> int:
    """A day row per endpoint per complete local day, an hour row per complete hour,
    written bucket by bucket as the rollup job does (so the table's physical order is
    what a running center's would be)."""
    today = now.astimezone(ZONE).date()
    days = [first + timedelta(days=i) for i in range((today - first).days)]
    start = datetime.combine(first, datetime.min.time(), tzinfo=ZONE).astimezone(UTC)
    hours = int((now - start).total_seconds() // 3600)
    bad = _bad_days(ids, len(days))
    rows = 0
    with conn.cursor().copy(
        "COPY probe_rollups (endpoint_id, resolution, bucket, total, ok, downtime_seconds,"
        " covered_seconds, latency_p50_ms, latency_p95_ms, latency_p99_ms) FROM STDIN"
    ) as copy:
        for h in range(hours):
            bucket = (start + timedelta(hours=h)).isoformat()
            day, hour_of_day = divmod(h, 24)
            lines = []
            for eid, down_days in zip(ids, bad, strict=True):
                down = down_days.get(day, 0) if hour_of_day == 10 else 0
                lines.append(f"{eid}\thour\t{bucket}\t60\t{60 - down // 60}\t{down}"
                             "\t3600\t120\t480\t900\n")  # fmt: skip
            if hour_of_day == 23 and day < len(days):  # the day is over: roll it up
                midnight = datetime.combine(days[day], datetime.min.time(), tzinfo=ZONE)
                for eid, down_days in zip(ids, bad, strict=True):
                    down = down_days.get(day, 0)
                    lines.append(f"{eid}\tday\t{midnight.isoformat()}\t1440\t{1440 - down // 60}"
                                 f"\t{down}\t86400\t120\t480\t900\n")  # fmt: skip
            copy.write("".join(lines))
            rows += len(lines)
    return rows


def _newest_hour(
    conn: psycopg.Connection[tuple[object, ...]], ids: list[str], now: datetime
) -> None:
    hour = now.replace(minute=0, second=0, microsecond=0)
    minutes = int((now - hour).total_seconds() // 60)
    with conn.cursor().copy(
        "COPY probe_results (time, endpoint_id, ok, total_ms) FROM STDIN"
    ) as copy:
        for eid in ids:
            for m in range(minutes):
                copy.write_row((hour + timedelta(minutes=m), eid, True, 120.0))


def _maintenance(conn: psycopg.Connection[tuple[object, ...]], first: date) -> None:
    sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    starts = datetime.combine(sunday, datetime.min.time(), tzinfo=ZONE) + timedelta(hours=1)
    for i in range(0, AGENCIES, 4):
        conn.execute(
            "INSERT INTO maintenance_windows (agency_id, starts_at, ends_at, recurring,"
            " created_at) VALUES (%s, %s, %s, 'weekly', now())",
            (f"ag-{i:02d}", starts, starts + timedelta(hours=2)),
        )


def _without_indexes(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Drop probe_rollups' indexes for the bulk load; return the statements that rebuild
    them as the migrations made them (a year of rows loads ~3x faster this way)."""
    keys = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'probe_rollups'::regclass AND contype = 'p'"
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'probe_rollups'"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint"
        "  WHERE conrelid = 'probe_rollups'::regclass)"
    ).fetchall()
    for name, _ in keys:
        conn.execute(f'ALTER TABLE probe_rollups DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return [f'ALTER TABLE probe_rollups ADD CONSTRAINT "{n}" {d}' for n, d in keys] + [
        str(d) for _, d in indexes
    ]


def _fill(url: str, endpoints: int, now: datetime) -> int:
    first = now.astimezone(ZONE).date() - timedelta(days=365)
    with psycopg.connect(url, autocommit=True) as conn:
        ids = _catalog(conn, endpoints)
        rebuild = _without_indexes(conn)
        rows = _rollups(conn, ids, first, now)
        for statement in rebuild:
            conn.execute(statement)
        _newest_hour(conn, ids, now)
        _maintenance(conn, first)
        # As on a running center, where autovacuum has long visited last month's rows.
        conn.execute("VACUUM (ANALYZE) probe_rollups")
        conn.execute("ANALYZE")
    return rows


async def _median_ms(pool: AsyncConnectionPool, query: SlaQuery, runs: int) -> float:
    repo = SlaRepository(pool)
    await compute_sla(repo, query)  # warm-up: plans and buffers
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await compute_sla(repo, query)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


async def run(endpoints: int = 1000, runs: int = 7) -> list[Row]:
    """Fill a scratch database, time the previous month and the month to date."""
    now = datetime.now(UTC)
    with scratch_database("mc_bench_sla") as url:
        await apply_migrations(url)
        began = time.perf_counter()
        rows = _fill(url, endpoints, now)
        print(f"sla: {rows:,} rollup rows written in {time.perf_counter() - began:.0f} s")
        this_month = Period.month(f"{now.astimezone(ZONE):%Y-%m}", ZONE)
        last_month = Period.month(f"{this_month.start - timedelta(days=1):%Y-%m}", ZONE)
        pool = await open_pool(url, min_size=2, max_size=4)
        try:
            previous = await _median_ms(pool, SlaQuery(last_month, now), runs)
            to_date = await _median_ms(pool, SlaQuery(this_month, now), runs)
        finally:
            await pool.close()
    note = f"median of {runs}, {endpoints:,} endpoints, a year of rollups"
    return [
        Row("SLA report, last month", "ms", TARGET_MS, previous, REFERENCE_MS, REFERENCE,
            higher_is_better=False, note=note),
        Row("SLA report, month to date", "ms", TARGET_MS, to_date, REFERENCE_MS, REFERENCE,
            higher_is_better=False, note=note + " + raw newest hour"),
    ]  # fmt: skip
