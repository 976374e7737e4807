"""Series rollups: min, max, avg, last and a reset-aware increase per hour and day."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.samples import Sample, increase
from monitor_center.db import open_pool
from tests.dbutil import scratch_database
from tests.rollups.helpers import SCOPE, Store, at, local

NOW = local("2026-03-10 02:00:00")
DAY = local("2026-03-09 00:00")


async def test_a_counter_reset_counts_the_value_after_it(store: Store) -> None:
    await store.samples(
        "ngsp-tx",
        [
            (local("2026-03-09 10:00"), 100),
            (local("2026-03-09 10:30"), 150),
            (local("2026-03-09 11:00"), 170),
            (local("2026-03-09 11:20"), 20),  # the counter restarted: +20 since then
            (local("2026-03-09 11:40"), 50),
        ],
    )
    await store.job().rebuild(SCOPE, DAY, NOW, NOW)
    hours = await store.series_rollups("hour")
    assert hours["ngsp-tx", at("2026-03-09 10:00")] == (2, 100, 150, 125, 150, 50)
    # From the baseline 150 (10:30): +20, reset to 20 (+20), +30.
    assert hours["ngsp-tx", at("2026-03-09 11:00")] == (3, 20, 170, 80, 50, 70)
    day = (await store.series_rollups("day"))["ngsp-tx", at("2026-03-09 00:00")]
    assert day == (5, 20, 170, 98, 50, 120)  # = 50 + 70: hours add up to the day


async def test_a_gauge_increase_is_last_minus_baseline(store: Store) -> None:
    await store.samples(
        "level4-share",
        [
            (local("2026-03-09 10:00"), 15.9),
            (local("2026-03-09 10:30"), 16.2),
            (local("2026-03-09 11:10"), 16.0),
        ],
    )
    await store.job().rebuild(SCOPE, DAY, NOW, NOW)
    hours = await store.series_rollups("hour")
    assert hours["level4-share", at("2026-03-09 10:00")][5] == pytest.approx(0.3)
    # A gauge going down is a negative change, not a reset.
    assert hours["level4-share", at("2026-03-09 11:00")][5] == pytest.approx(-0.2)
    day = (await store.series_rollups("day"))["level4-share", at("2026-03-09 00:00")]
    assert day[4:] == pytest.approx((16.0, 0.1))


async def test_one_point_or_an_unknown_kind_has_no_increase(store: Store) -> None:
    await store.samples("ngsp-tx", [(local("2026-03-09 10:00"), 100)])
    await store.samples(
        "unlisted", [(local("2026-03-09 10:00"), 5), (local("2026-03-09 10:05"), 3)]
    )
    await store.job().rebuild(SCOPE, DAY, NOW, NOW)
    hours = await store.series_rollups("hour")
    assert hours["ngsp-tx", at("2026-03-09 10:00")] == (1, 100, 100, 100, 100, None)
    assert hours["unlisted", at("2026-03-09 10:00")] == (2, 3, 5, 4, 3, None)


async def test_the_baseline_is_looked_for_up_to_a_day_back(store: Store) -> None:
    await store.samples(
        "ngsp-tx",
        [
            (local("2026-03-08 08:30"), 1000),  # more than a day before the 09:00 hour
            (local("2026-03-09 09:30"), 1200),
            (local("2026-03-09 10:15"), 1300),
        ],
    )
    await store.job().rebuild(SCOPE, local("2026-03-08 00:00"), NOW, NOW)
    hours = await store.series_rollups("hour")
    assert hours["ngsp-tx", at("2026-03-09 09:00")][5] is None  # 1000 is too old
    assert hours["ngsp-tx", at("2026-03-09 10:00")][5] == 100


counters = st.lists(st.integers(min_value=0, max_value=1_000), min_size=2, max_size=40)


def test_hourly_increases_add_up_to_prometheus_increase(plain_template: str) -> None:
    """Summed hour buckets equal core.samples.increase over the same samples."""
    with scratch_database(template=plain_template) as url:

        @settings(max_examples=20, deadline=None)
        @given(values=counters, step=st.integers(min_value=30, max_value=900))
        def check(values: list[int], step: int) -> None:
            start = local("2026-03-09 10:07")
            samples = [Sample(start + timedelta(seconds=i * step), v) for i, v in enumerate(values)]
            summed = asyncio.run(_hourly_increases(url, samples))
            assert summed == pytest.approx(increase(samples))

        check()


async def _hourly_increases(url: str, samples: list[Sample]) -> float:
    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        store = Store(url, pool, "")
        async with pool.connection() as conn:
            await conn.execute("TRUNCATE series_samples, series_rollups, rollup_marks")
        await store.samples("ngsp-tx", [(s.time, s.value) for s in samples])
        later = NOW + timedelta(days=1)
        await store.job().rebuild(SCOPE, DAY, later, later)
        return sum(v[5] or 0 for v in (await store.series_rollups("hour")).values())
    finally:
        await pool.close()
