"""What the periodic rules read, from the real database, and one evaluation end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from alerts.rules import (
    EndpointDownParams,
    LatencyParams,
    RuleSpec,
    Selector,
    SubjectInfo,
    VolumeDropParams,
    WindowCounts,
)
from core.results import Latency, ProbeResult
from core.samples import Sample
from monitor_center.alerting.periodic import SeriesMeta, evaluate_periodic
from monitor_center.db import apply_migrations
from monitor_center.db.repositories import ProbeResultRepository, RuleInputs

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def probe(endpoint: str, seconds_ago: float, ok: bool = True, ms: float = 100) -> ProbeResult:
    return ProbeResult(
        endpoint_id=endpoint,
        time=NOW - timedelta(seconds=seconds_ago),
        ok=ok,
        latency=Latency(total=ms / 1000),
        status=200 if ok else 503,
        reason=None if ok else "status 503",
    )


async def add_samples(pool: AsyncConnectionPool, series_id: str, samples: list[Sample]) -> None:
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO series_samples (series_id, time, value) VALUES (%s, %s, %s)",
            [(series_id, s.time, s.value) for s in samples],
        )


def hourly_window(end: datetime, values: list[float]) -> list[Sample]:
    """Samples every 15 minutes over the hour ending at `end`."""
    return [Sample(end - timedelta(minutes=15 * (4 - i)), v) for i, v in enumerate(values)]


async def test_latencies_are_the_successful_probes_since_the_start(
    pool: AsyncConnectionPool,
) -> None:
    await ProbeResultRepository(pool).insert_many(
        [
            probe("portal", 600, ms=900),  # before the window
            probe("portal", 200, ms=120),
            probe("portal", 100, ok=False, ms=5000),  # a timeout is not a latency
            probe("portal", 10, ms=340),
            probe("gateway", 50, ms=80),
        ]
    )
    latencies = await RuleInputs(pool).latencies(
        ["portal", "gateway", "never"], NOW - timedelta(minutes=5)
    )
    assert latencies == {"portal": [120.0, 340.0], "gateway": [80.0]}


async def test_window_counts_count_probes_and_failures_per_window_in_one_answer(
    pool: AsyncConnectionPool,
) -> None:
    await ProbeResultRepository(pool).insert_many(
        [
            probe("portal", 3000, ok=False),  # only in the 1h window
            probe("portal", 1000),
            probe("portal", 200, ok=False),  # in both
            probe("portal", 0),  # exactly now: inside (now - w, now]
            probe("portal", -10, ok=False),  # after now: outside
            probe("portal", 3600),  # exactly an hour ago: outside
        ]
    )
    counts = await RuleInputs(pool).window_counts(["portal", "quiet"], NOW, [300, 3600])
    assert counts == {
        "portal": {300.0: WindowCounts(2, 1), 3600.0: WindowCounts(4, 2)},
        "quiet": {300.0: WindowCounts(0, 0), 3600.0: WindowCounts(0, 0)},
    }


async def test_last_probe_times_leave_out_endpoints_never_probed(
    pool: AsyncConnectionPool,
) -> None:
    await ProbeResultRepository(pool).insert_many([probe("portal", 90), probe("portal", 30)])
    last = await RuleInputs(pool).last_probe_times(["portal", "never"])
    assert last == {"portal": NOW - timedelta(seconds=30)}


async def test_samples_come_back_per_series_oldest_first_within_the_range(
    pool: AsyncConnectionPool,
) -> None:
    values = hourly_window(NOW, [1, 2, 3, 4, 5])
    await add_samples(pool, "dossiers", list(reversed(values)))
    await add_samples(pool, "other", hourly_window(NOW, [9, 9, 9, 9, 9]))
    found = await RuleInputs(pool).samples(["dossiers"], NOW - timedelta(minutes=30), NOW)
    assert found == {"dossiers": values[2:]}


async def test_last_and_latest_samples_per_series(pool: AsyncConnectionPool) -> None:
    await add_samples(pool, "level4", hourly_window(NOW, [10, 11, 12, 13, 14.5]))
    inputs = RuleInputs(pool)
    assert await inputs.last_sample_times(["level4", "never"]) == {"level4": NOW}
    assert await inputs.latest_samples(["level4", "never"]) == {"level4": Sample(NOW, 14.5)}


async def test_evaluate_periodic_judges_latency_and_volume_drop_from_the_database(
    pool: AsyncConnectionPool,
) -> None:
    await ProbeResultRepository(pool).insert_many(
        [probe("slow-portal", s, ms=1500) for s in (240, 180, 120, 60)]
        + [probe("fast-portal", s, ms=90) for s in (240, 180, 120, 60)]
    )
    # A counter that restarted mid-hour last week: 1000 dossiers then, 150 now.
    await add_samples(pool, "dossiers", hourly_window(NOW - WEEK, [5000, 5500, 100, 400, 500]))
    await add_samples(
        pool, "dossiers", hourly_window(NOW, [70_000, 70_050, 70_100, 70_120, 70_150])
    )
    subjects = [
        SubjectInfo("slow-portal", "endpoint", "hanoi", "province"),
        SubjectInfo("fast-portal", "endpoint", "ngsp", "platform"),
        SubjectInfo("dossiers", "series", "hanoi", "province"),
    ]
    specs = [
        RuleSpec("down", "endpoint_down", "critical", Selector(), 0, EndpointDownParams()),
        RuleSpec("slow", "latency", "warning", Selector(), 0, LatencyParams(threshold_ms=800)),
        RuleSpec("drop", "volume_drop", "warning", Selector(), 0, VolumeDropParams(50)),
    ]
    results = await evaluate_periodic(
        specs, subjects, {"dossiers": SeriesMeta(counter=True)}, RuleInputs(pool), NOW, NOW
    )
    verdicts = {(spec.id, subject.id): verdict for spec, subject, verdict in results}
    assert set(verdicts) == {("slow", "slow-portal"), ("slow", "fast-portal"), ("drop", "dossiers")}
    assert verdicts["slow", "slow-portal"].active
    assert verdicts["slow", "slow-portal"].value == 1500
    assert not verdicts["slow", "fast-portal"].active
    drop = verdicts["drop", "dossiers"]
    assert drop.active
    assert drop.value == pytest.approx(15.0)
    assert drop.summary == "volume 150 over the last 1h is 15 % of 1,000 7d earlier (below 50 %)"


@pytest.mark.usefixtures("require_timescaledb")
async def test_series_samples_is_a_hypertable_when_timescaledb_is_there(
    empty_db_url: str,
) -> None:
    await apply_migrations(empty_db_url, timescaledb="on")
    async with await psycopg.AsyncConnection.connect(empty_db_url) as conn:
        cur = await conn.execute(
            "SELECT 1 FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = 'series_samples'"
        )
        assert await cur.fetchone() is not None
