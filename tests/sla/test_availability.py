"""Availability math on a real database: day rollups for whole days, hour rollups at the
edges, raw results for the newest part; unknown time; maintenance; the time zone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from monitor_center.db.repositories import sla as sla_repository
from monitor_center.db.repositories.sla import SlaRepository
from monitor_center.sla import Period, SlaQuery, compute_sla
from tests.sla.rows import (
    LOCAL,
    at,
    catalog,
    every_minute,
    full_days,
    full_hours,
    midnight,
    results,
    rollup,
    window,
)

AGENCY = ("nghe-an", "Tỉnh Nghệ An", "province")


@pytest.fixture(params=["per-endpoint", "whole-fleet"])
async def repo(
    request: pytest.FixtureRequest, pool: AsyncConnectionPool, monkeypatch: pytest.MonkeyPatch
) -> SlaRepository:
    """Both access paths: per endpoint (few endpoints) and by time for the whole fleet."""
    monkeypatch.setattr(sla_repository, "WIDE", 1 if request.param == "whole-fleet" else 10_000)
    await catalog(pool, [AGENCY], [("na-portal", "nghe-an"), ("na-dvc", "nghe-an")])
    return SlaRepository(pool)


async def _hand_built(pool: AsyncConnectionPool) -> None:
    # Oct 1 is cut at 22:00: its day row (all down) must not be used, its last two hours are.
    await rollup(pool, "na-portal", "day", midnight(date(2026, 10, 1)), (1440, 0, 86400, 86400))
    await rollup(pool, "na-portal", "hour", at("2026-10-01 22:00"), (60, 60, 0, 3600))
    await rollup(pool, "na-portal", "hour", at("2026-10-01 23:00"), (60, 55, 300, 3600))
    # Whole days 2..4 from day rows; an hour row inside them must be ignored.
    await rollup(pool, "na-portal", "day", midnight(date(2026, 10, 2)), (1440, 1440, 0, 86400))
    await rollup(pool, "na-portal", "day", midnight(date(2026, 10, 3)), (1440, 1430, 600, 86400))
    await rollup(pool, "na-portal", "day", midnight(date(2026, 10, 4)), (1333, 1333, 0, 80000))
    await rollup(pool, "na-portal", "hour", at("2026-10-03 05:00"), (60, 0, 3600, 3600))
    # Oct 5 up to now (10:30): ten complete hour rows, then an hour rolled while in
    # progress (ignored) and raw results.
    await full_hours(pool, "na-portal", at("2026-10-05 00:00"), 10)
    await rollup(
        pool, "na-portal", "hour", at("2026-10-05 10:00"), (20, 20, 0, 1200),
        rolled_at=at("2026-10-05 10:20"),
    )  # fmt: skip
    # 09:58 and 09:59 belong to a rolled-up hour: counted there, not again.
    await results(
        pool, "na-portal", every_minute(at("2026-10-05 09:58"), 32, failing=(7, 8, 9, 10, 11))
    )


async def test_a_hand_built_period_uses_days_hours_and_raw_results(
    pool: AsyncConnectionPool, repo: SlaRepository
) -> None:
    await _hand_built(pool)
    period = Period(at("2026-10-01 22:00"), at("2026-11-01 00:00"), LOCAL)
    report = await compute_sla(repo, SlaQuery(period, now=at("2026-10-05 10:30"), days=True))

    [agency] = report.agencies
    portal, dvc = sorted(agency.endpoints, key=lambda e: e.id != "na-portal")
    f = portal.figures
    assert f.known_seconds == pytest.approx(86400 * 2 + 80000 + 7200 + 36000 + 1800)
    assert f.downtime_seconds == pytest.approx(600 + 300 + 300)
    assert f.unknown_seconds == pytest.approx(6400)
    assert f.maintenance_seconds == 0
    assert f.probes == 1440 + 1440 + 1333 + 120 + 600 + 30
    assert f.failed == 10 + 5 + 5
    assert f.availability_percent == pytest.approx(100 * (297800 - 1200) / 297800)
    # The endpoint with no data at all is unknown, not 100 %, and weighs nothing.
    assert dvc.figures.availability_percent is None
    assert dvc.figures.unknown_seconds == pytest.approx(3 * 86400 + 12.5 * 3600)
    assert agency.figures.availability_percent == pytest.approx(f.availability_percent)
    assert agency.figures.unknown_seconds == pytest.approx(6400 + 3 * 86400 + 12.5 * 3600)
    assert report.until == at("2026-10-05 10:30")
    assert [d.date.day for d in portal.days] == [1, 2, 3, 4, 5]
    assert portal.days[2].figures.downtime_seconds == 600


async def test_a_period_with_no_data_is_unknown_not_100(repo: SlaRepository) -> None:
    period = Period.month("2026-09", LOCAL)
    report = await compute_sla(repo, SlaQuery(period, now=at("2026-11-25 12:00")))
    [agency] = report.agencies
    assert agency.figures.availability_percent is None
    assert agency.figures.known_seconds == 0
    assert agency.figures.unknown_seconds == 2 * 30 * 86400
    assert all(e.figures.availability_percent is None for e in agency.endpoints)
    assert agency.incidents == [] and agency.mttr_seconds is None


async def test_a_period_in_the_future_is_unknown_and_empty(repo: SlaRepository) -> None:
    period = Period.month("2027-01", LOCAL)
    report = await compute_sla(repo, SlaQuery(period, now=at("2026-11-25 12:00")))
    assert report.agencies[0].figures.availability_percent is None
    assert report.agencies[0].figures.unknown_seconds == 0


async def test_a_month_crossing_maintenance_windows_excludes_them(
    pool: AsyncConnectionPool, repo: SlaRepository
) -> None:
    october = date(2026, 10, 1)
    await full_days(pool, "na-portal", october, 31)
    # One-off: Oct 10 02:00-04:00 on the endpoint, all down (in the day row too).
    await window(pool, at("2026-10-10 02:00"), at("2026-10-10 04:00"), endpoint="na-portal")
    # Weekly on the agency from Sunday Sep 27, 01:00-03:00: Oct 4, 11, 18, 25.
    await window(
        pool, at("2026-09-27 01:00"), at("2026-09-27 03:00"), agency="nghe-an", recurring="weekly"
    )
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE probe_rollups SET downtime_seconds = 7800, ok = 1310"
            " WHERE bucket = %s AND resolution = 'day'",
            (midnight(date(2026, 10, 10)),),
        )
    await full_hours(pool, "na-portal", midnight(date(2026, 10, 10)), 24)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE probe_rollups SET downtime_seconds = 600, ok = 50 WHERE bucket = %s"
            " AND resolution = 'hour'",
            (at("2026-10-10 05:00"),),
        )
        await conn.execute(
            "UPDATE probe_rollups SET downtime_seconds = 3600, ok = 0 WHERE bucket IN (%s, %s)"
            " AND resolution = 'hour'",
            (at("2026-10-10 02:00"), at("2026-10-10 03:00")),
        )
    for sunday in (4, 11, 18, 25):  # hours outside the window, else raw results are read
        await full_hours(pool, "na-portal", midnight(date(2026, 10, sunday)), 1)
        await full_hours(pool, "na-portal", at(f"2026-10-{sunday:02d} 03:00"), 21)

    report = await compute_sla(
        repo, SlaQuery(Period.month("2026-10", LOCAL), at("2026-11-25 09:00"), days=True)
    )
    portal = next(e for e in report.agencies[0].endpoints if e.id == "na-portal")
    f = portal.figures
    assert f.maintenance_seconds == 10 * 3600
    assert f.known_seconds == 31 * 86400 - 10 * 3600
    assert f.downtime_seconds == 600
    assert f.unknown_seconds == 0
    assert f.availability_percent == pytest.approx(100 * (f.known_seconds - 600) / f.known_seconds)
    # The agency window applies to every endpoint of the agency.
    dvc = next(e for e in report.agencies[0].endpoints if e.id == "na-dvc")
    assert dvc.figures.maintenance_seconds == 8 * 3600
    assert portal.days[9].figures.maintenance_seconds == 7200
    # A day touched by maintenance comes from its hours, whichever query answers first.
    assert portal.days[9].figures.known_seconds == 22 * 3600
    assert portal.days[9].figures.downtime_seconds == 600
    assert portal.days[3].figures.known_seconds == 22 * 3600  # Sunday Oct 4


async def test_a_result_at_2330_utc_on_the_last_day_belongs_to_the_next_local_month(
    pool: AsyncConnectionPool, repo: SlaRepository
) -> None:
    late = at("2026-10-31T23:30:00+00:00")
    await results(pool, "na-portal", [(late, False), (late + timedelta(minutes=1), False)])
    now = at("2026-11-25 12:00")
    october = await compute_sla(repo, SlaQuery(Period.month("2026-10", LOCAL), now))
    november = await compute_sla(repo, SlaQuery(Period.month("2026-11", LOCAL), now, days=True))
    oct_portal = next(e for e in october.agencies[0].endpoints if e.id == "na-portal")
    nov_portal = next(e for e in november.agencies[0].endpoints if e.id == "na-portal")
    assert oct_portal.figures.probes == 0
    assert oct_portal.figures.availability_percent is None
    assert (nov_portal.figures.probes, nov_portal.figures.failed) == (2, 2)
    assert nov_portal.days[0].date == date(2026, 11, 1)
    assert nov_portal.days[0].figures.probes == 2
    # 60 s until the next result, then 120 s (two intervals) before it goes stale.
    assert nov_portal.figures.downtime_seconds == 180
    assert nov_portal.figures.availability_percent == 0


async def test_a_removed_endpoint_without_data_is_left_out(
    pool: AsyncConnectionPool, repo: SlaRepository
) -> None:
    async with pool.connection() as conn:
        await conn.execute("UPDATE endpoints SET active = false WHERE id = 'na-dvc'")
    report = await compute_sla(
        repo, SlaQuery(Period.month("2026-10", LOCAL), at("2026-11-25 09:00"))
    )
    assert [e.id for e in report.agencies[0].endpoints] == ["na-portal"]


async def test_day_rows_that_do_not_start_at_local_midnight_are_not_used(
    pool: AsyncConnectionPool, repo: SlaRepository
) -> None:
    # A day bucket at UTC midnight (07:00 in Hanoi): another time zone's day, not ours.
    await rollup(pool, "na-portal", "day", at("2026-10-02T00:00:00+00:00"), (1440, 0, 86400, 86400))
    await full_hours(pool, "na-portal", midnight(date(2026, 10, 2)), 24)
    period = Period(midnight(date(2026, 10, 2)), midnight(date(2026, 10, 3)), LOCAL)
    report = await compute_sla(repo, SlaQuery(period, at("2026-11-25 09:00")))
    portal = next(e for e in report.agencies[0].endpoints if e.id == "na-portal")
    assert (portal.figures.known_seconds, portal.figures.downtime_seconds) == (86400, 0)
