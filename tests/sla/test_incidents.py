"""Incidents from the alert history (with MTTA/MTTR), else from runs of failed probes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from monitor_center.db.repositories.sla import SlaRepository
from monitor_center.sla import Period, SlaQuery, compute_sla
from tests.sla.rows import LOCAL, alert, at, catalog, every_minute, results

NOW = at("2026-11-25 12:00")


@pytest.fixture
async def repo(pool: AsyncConnectionPool) -> SlaRepository:
    await catalog(
        pool,
        [("btc", "Bộ Tài chính", "ministry"), ("nghe-an", "Tỉnh Nghệ An", "province")],
        [("btc-portal", "btc"), ("na-portal", "nghe-an")],
    )
    return SlaRepository(pool)


async def test_incidents_come_from_endpoint_down_alerts_with_mtta_and_mttr(
    pool: AsyncConnectionPool, repo: SlaRepository
) -> None:
    await alert(pool, "btc-portal", "btc", at("2026-10-03 10:00"), at("2026-10-03 10:30"),
                acknowledged=at("2026-10-03 10:05"))  # fmt: skip
    await alert(pool, "btc-portal", "btc", at("2026-10-07 08:00"), at("2026-10-07 09:00"))
    await alert(pool, "btc-portal", "btc", at("2026-10-31 23:00"), None,
                acknowledged=at("2026-10-31 23:10"))  # fmt: skip
    # Not incidents of October: never fired, another rule kind, September, another agency's.
    await alert(pool, "btc-portal", "btc", None)
    await alert(pool, "btc-portal", "btc", at("2026-10-04 10:00"), at("2026-10-04 11:00"),
                kind="latency")  # fmt: skip
    await alert(pool, "btc-portal", "btc", at("2026-09-03 10:00"), at("2026-09-03 10:30"))
    await alert(pool, "na-portal", "nghe-an", at("2026-10-09 10:00"), at("2026-10-09 10:01"))
    # Failed probes do not make incidents while the alert history is the source.
    await results(pool, "btc-portal", every_minute(at("2026-10-20 00:00"), 10, failing=range(8)))

    report = await compute_sla(repo, SlaQuery(Period.month("2026-10", LOCAL), NOW))
    assert report.incident_source == "alert"
    btc = next(a for a in report.agencies if a.id == "btc")
    assert [(i.start, i.end) for i in btc.incidents] == [
        (at("2026-10-03 10:00"), at("2026-10-03 10:30")),
        (at("2026-10-07 08:00"), at("2026-10-07 09:00")),
        (at("2026-10-31 23:00"), None),
    ]
    assert [i.time_to_acknowledge_seconds for i in btc.incidents] == [300, None, 600]
    assert [i.duration_seconds for i in btc.incidents] == [1800, 3600, None]
    assert btc.incidents[0].acknowledged_by == "truc-ban"
    assert btc.mtta_seconds == 450
    assert btc.mttr_seconds == 2700
    assert btc.endpoints[0].incidents == 3
    na = next(a for a in report.agencies if a.id == "nghe-an")
    assert len(na.incidents) == 1 and na.mttr_seconds == 60 and na.mtta_seconds is None


async def test_without_alerts_incidents_are_runs_of_failed_probes(
    pool: AsyncConnectionPool, repo: SlaRepository
) -> None:
    # 01:00-01:04 down (5 failures), a 2-failure blip at 02:00, and a run from 23:57 that
    # only recovers at 00:02 the next day, after the period.
    await results(pool, "na-portal", every_minute(at("2026-10-10 01:00"), 10, failing=range(5)))
    await results(pool, "na-portal", every_minute(at("2026-10-10 02:00"), 5, failing=(1, 2)))
    await results(pool, "na-portal", every_minute(at("2026-10-10 23:57"), 6, failing=range(5)))

    period = Period(at("2026-10-10 00:00"), at("2026-10-11 00:00"), LOCAL)
    report = await compute_sla(repo, SlaQuery(period, NOW, agencies=["nghe-an"]))
    assert report.incident_source == "probes"
    [na] = report.agencies
    assert [(i.start, i.end, i.failed_probes) for i in na.incidents] == [
        (at("2026-10-10 01:00"), at("2026-10-10 01:05"), 5),
        (at("2026-10-10 23:57"), at("2026-10-11 00:02"), 3),
    ]
    assert na.mttr_seconds == 300
    assert na.mtta_seconds is None
    assert [i.time_to_acknowledge_seconds for i in na.incidents] == [None, None]

    blips = await compute_sla(repo, SlaQuery(period, NOW, agencies=["nghe-an"], min_failures=2))
    assert len(blips.agencies[0].incidents) == 3


async def test_a_run_still_failing_has_no_end(
    pool: AsyncConnectionPool, repo: SlaRepository
) -> None:
    start = at("2026-10-12 08:00")
    await results(pool, "na-portal", every_minute(start, 4, failing=range(4)))
    period = Period(start, start + timedelta(hours=1), LOCAL)
    report = await compute_sla(repo, SlaQuery(period, NOW, agencies=["nghe-an"]))
    [incident] = report.agencies[0].incidents
    assert incident.end is None and incident.duration_seconds is None
    assert report.agencies[0].mttr_seconds is None
