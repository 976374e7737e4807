"""series_samples and series_errors on a real database: idempotent COPY, buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from psycopg_pool import AsyncConnectionPool

from core.samples import Sample, increase
from monitor_center.db import apply_migrations, open_pool
from monitor_center.db.repositories.series import SeriesRepository
from monitor_center.series.points import grid_origin

T0 = datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def repo(pool: AsyncConnectionPool) -> SeriesRepository:
    return SeriesRepository(pool)


async def test_a_batch_is_stored_and_a_replay_inserts_nothing(repo: SeriesRepository) -> None:
    rows = [("tx", _at(i), float(i)) for i in range(100)]
    assert await repo.insert(rows) == 100
    assert await repo.insert(rows) == 0
    assert await repo.count("tx") == 100


async def test_duplicates_keep_the_first_value_in_the_table_and_in_a_batch(
    repo: SeriesRepository,
) -> None:
    assert await repo.insert([("kpi", _at(0), 10.0)]) == 1
    # The same time again (with another value), plus a duplicate inside the batch.
    batch = [("kpi", _at(0), 99.0), ("kpi", _at(1), 11.0), ("kpi", _at(1), 98.0)]
    assert await repo.insert(batch) == 1
    stored = await repo.since(["kpi"], _at(-1))
    assert stored["kpi"] == [Sample(_at(0), 10.0), Sample(_at(1), 11.0)]


async def test_out_of_order_samples_land_in_time_order(repo: SeriesRepository) -> None:
    assert await repo.insert([("kpi", _at(m), float(m)) for m in (5, 1, 3)]) == 3
    assert await repo.insert([("kpi", _at(m), float(m)) for m in (4, 2, 3)]) == 2
    stored = await repo.since(["kpi"], _at(-1))
    assert [s.value for s in stored["kpi"]] == [1, 2, 3, 4, 5]
    assert (await repo.latest(["kpi", "none"])) == {"kpi": Sample(_at(5), 5.0)}


async def test_errors_are_kept_apart_and_the_last_one_is_found(repo: SeriesRepository) -> None:
    errors = [
        ("kpi", _at(0), "not_json", "expected JSON, got text/html"),
        ("kpi", _at(1), "path_missing", "json path $.v matched nothing"),
    ]
    assert await repo.insert([], errors) == 0
    await repo.insert([], errors)  # a replay is harmless
    last = await repo.last_errors(["kpi", "tx"])
    assert list(last) == ["kpi"]
    assert (last["kpi"].time, last["kpi"].reason) == (_at(1), "path_missing")
    assert await repo.count() == 0  # an error is never a sample


async def test_counter_buckets_add_up_across_a_reset(repo: SeriesRepository) -> None:
    # Every 10 minutes; the counter restarts from 0 between 00:30 and 00:40.
    values = [100.0, 130.0, 160.0, 200.0, 20.0, 50.0, 90.0]
    await repo.insert([("tx", _at(10 * i), v) for i, v in enumerate(values)])
    buckets = await repo.buckets("tx", _at(0), _at(70), timedelta(minutes=30), grid_origin(HANOI))
    assert [b.time for b in buckets] == [_at(0), _at(30), _at(60)]
    assert [b.increase for b in buckets] == [60.0, 40.0 + 20.0 + 30.0, 40.0]
    samples = [Sample(_at(10 * i), v) for i, v in enumerate(values)]
    assert sum(b.increase for b in buckets) == increase(samples) == 190.0
    assert [b.last for b in buckets] == [160.0, 50.0, 90.0]


async def test_the_first_bucket_counts_from_the_sample_before_start(
    repo: SeriesRepository,
) -> None:
    await repo.insert([("tx", _at(m), v) for m, v in ((0, 10.0), (20, 25.0), (40, 45.0))])
    buckets = await repo.buckets("tx", _at(15), _at(45), timedelta(minutes=15), T0)
    assert [(b.time, b.samples, b.increase) for b in buckets] == [
        (_at(15), 1, 15.0),
        (_at(30), 1, 20.0),
    ]


async def test_gauge_buckets_and_local_midnight(repo: SeriesRepository) -> None:
    # Hanoi is UTC+7: local midnight of 1 May is 30 April 17:00 UTC.
    midnight = datetime(2024, 5, 1, tzinfo=HANOI)
    rows = [("share", midnight + timedelta(hours=h), float(h)) for h in (-2, 1, 5, 23, 25)]
    await repo.insert(rows)
    buckets = await repo.buckets(
        "share",
        midnight - timedelta(days=1),
        midnight + timedelta(days=2),
        timedelta(days=1),
        grid_origin(HANOI),
    )
    assert [b.time for b in buckets] == [
        midnight - timedelta(days=1),
        midnight,
        midnight + timedelta(days=1),
    ]
    day = buckets[1]
    assert (day.samples, day.min, day.max, day.avg, day.last) == (3, 1.0, 23.0, 29 / 3, 23.0)


async def test_the_same_on_plain_postgresql(empty_db_url: str) -> None:
    await apply_migrations(empty_db_url, timescaledb="off")
    plain = await open_pool(empty_db_url, min_size=1, max_size=2)
    try:
        repo = SeriesRepository(plain)
        rows = [("tx", _at(10 * i), v) for i, v in enumerate([5.0, 9.0, 2.0, 6.0])]
        assert await repo.insert(rows) == 4
        assert await repo.insert(rows[1:]) == 0
        await repo.insert([], [("tx", _at(1), "timeout", "timeout")])
        buckets = await repo.buckets("tx", _at(0), _at(40), timedelta(minutes=40), T0)
        assert [(b.samples, b.increase, b.last) for b in buckets] == [(4, 4.0 + 2.0 + 4.0, 6.0)]
        assert (await repo.last_errors(["tx"]))["tx"].reason == "timeout"
    finally:
        await plain.close()
