"""The demo's history: the expected rows on a fixed grid, incidents as failed probes,
samples equal to what the fleet serves, and a second run that adds nothing."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr
from rich.console import Console

from monitor_center.demo.agencies import AgencyInfo, load_agencies
from monitor_center.demo.backfill import (
    BackfillReport,
    HistoryPlan,
    backfill,
    expected_rows,
    plan_for_fleet,
)
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.runner import run_demo
from monitor_center.settings import Settings
from tests.running import free_port
from tests.waiting import wait_until

SMALL = ("ngsp", "dvcqg", "nghe-an", "byt")
# Two days ending on a Monday afternoon: they hold Sunday 8 November 2026, a week when
# the National Public Service Portal deploys in its maintenance window.
END = datetime(2026, 11, 9, 5, 7, 30, tzinfo=UTC)
START = END - timedelta(days=2)


@pytest.fixture
def agencies() -> list[AgencyInfo]:
    return [a for a in load_agencies() if a.id in SMALL]


@pytest.fixture
def plan(agencies: list[AgencyInfo]) -> HistoryPlan:
    fleet = FleetSimulator(agencies, seed=1)
    return plan_for_fleet(fleet, agencies, interval=10, timeout=5, seed=1)


async def count(pool: AsyncConnectionPool, query: str, *args: object) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(query, args or None)
        row = await cur.fetchone()
        assert row is not None
        return int(str(row[0]))


async def run(db_url: str, plan: HistoryPlan, start: datetime, end: datetime) -> BackfillReport:
    return await backfill(db_url, plan, start=start, end=end)


async def test_backfill_writes_the_expected_rows_and_a_second_run_adds_nothing(
    db_url: str, pool: AsyncConnectionPool, plan: HistoryPlan
) -> None:
    # 6 endpoints (4 portals, the APIs of NGSP and the portal) every 20 s for 2 days;
    # 4 counters every minute, 5 KPI gauges every 15 minutes.
    probes, samples = 6 * 8640, 4 * 2880 + 5 * 192
    assert expected_rows(plan, START.timestamp(), END.timestamp()) == (probes, samples)
    first = await run(db_url, plan, START, END)
    assert (first.probes_new, first.samples_new, first.rows) == (probes, samples, probes + samples)
    assert await count(pool, "SELECT count(*) FROM probe_results") == probes
    assert await count(pool, "SELECT count(*) FROM series_samples") == samples
    off_grid = "SELECT count(*) FROM probe_results WHERE extract(epoch FROM time)::bigint % 20 <> 0"
    assert await count(pool, off_grid) == 0
    again = await run(db_url, plan, START, END)
    assert (again.new, again.rows) == (0, probes + samples)
    assert again.chunks_skipped == 9  # 2 days from 05:07:30 cut at 6-hour marks
    assert await count(pool, "SELECT count(*) FROM probe_results") == probes


async def test_a_later_window_adds_only_the_new_hours(
    db_url: str, pool: AsyncConnectionPool, plan: HistoryPlan
) -> None:
    await run(db_url, plan, START, END)
    later = await run(db_url, plan, START + timedelta(hours=6), END + timedelta(hours=6))
    assert later.probes_new == 6 * 6 * 180  # 6 endpoints, 6 more hours at 180 an hour
    assert later.samples_new == 6 * (4 * 60 + 5 * 4)


async def test_missing_rows_in_a_chunk_are_filled_around_the_existing_ones(
    db_url: str, pool: AsyncConnectionPool, plan: HistoryPlan
) -> None:
    await run(db_url, plan, START, END)
    async with pool.connection() as conn:
        cur = await conn.execute(
            "DELETE FROM probe_results WHERE endpoint_id = 'byt-portal' AND time < %s",
            (START + timedelta(hours=3),),
        )
        deleted = cur.rowcount
    assert deleted > 0
    refill = await run(db_url, plan, START, END)
    assert (refill.probes_new, refill.samples_new) == (deleted, 0)


async def test_incidents_are_failed_probes_and_the_portal_deploys_in_its_window(
    db_url: str, pool: AsyncConnectionPool, plan: HistoryPlan
) -> None:
    report = await run(db_url, plan, START, END)
    lo, hi = START.timestamp(), END.timestamp()
    grid = [k * 20.0 for k in range(math.ceil(lo / 20), math.ceil(hi / 20))]
    failing = {(o.endpoint_id, t) for o in report.outages for t in grid if o.start <= t < o.end}
    failed = await count(pool, "SELECT count(*) FROM probe_results WHERE NOT ok")
    assert failed == len(failing) > 0
    deploys = [o for o in report.outages if o.mode == "maintenance"]
    assert {o.endpoint_id for o in deploys} == {"dvcqg-portal", "dvcqg-api"}
    for outage in deploys:
        local = datetime.fromtimestamp(outage.start, UTC) + timedelta(hours=7)
        assert (local.weekday(), local.hour) == (6, 1)  # Sunday, inside 01:00-02:00
    reasons = (
        "SELECT DISTINCT reason FROM probe_results WHERE endpoint_id = 'dvcqg-portal' AND NOT ok"
    )
    async with pool.connection() as conn:
        rows = await (await conn.execute(reasons)).fetchall()
    assert ("body mismatch",) in rows  # the maintenance page, as the prober reports it


async def test_samples_are_what_the_fleet_serves_at_that_time(
    db_url: str, pool: AsyncConnectionPool, plan: HistoryPlan
) -> None:
    await run(db_url, plan, START, END)
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT series_id, extract(epoch FROM time)::float8, value FROM series_samples"
            " WHERE extract(epoch FROM time)::bigint % 3600 = 0"
        )
        rows = await cur.fetchall()
    assert len(rows) == 48 * 9
    for series_id, t, value in rows:
        assert value == plan.model.value(str(series_id), float(str(t))), series_id


async def test_the_demo_backfills_before_the_center_starts(db_url: str, tmp_path: Path) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    demo = asyncio.create_task(
        run_demo(
            Settings(database_url=SecretStr(db_url)),
            port=free_port(),
            fleet_port=free_port(),
            data_dir=tmp_path,
            console=console,
            backfill_days=0.02,  # half an hour of the whole fleet
        )
    )

    async def banner() -> bool:
        if demo.done():
            demo.result()
        return "printed below as they arrive" in buffer.getvalue()

    try:
        await wait_until(banner, timeout=120, what="the demo's banner")
    finally:
        demo.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await demo
    text = buffer.getvalue()
    assert "history        0.02 days:" in text
    assert text.index("history ") < text.index("printed below as they arrive")
