"""Probe rollups: counts, downtime, covered time and latency percentiles per hour and day."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.rollups.helpers import SCOPE, Store, at, local

SECOND = timedelta(seconds=1)
NOW = local("2026-03-10 02:00:00")


async def _hand_built(store: Store) -> None:
    """An endpoint probed every 60 s (a span is at most 120 s) around local midnight."""
    await store.endpoint("dvcqg-portal", 60)
    await store.endpoint("idle", 10)  # no results: no rows
    await store.results(
        "dvcqg-portal",
        [
            (local("2026-03-09 12:00:00"), True, 50),  # alone: 120 s, then unknown
            (local("2026-03-09 23:58:00"), True, 100),  # 60 s
            (local("2026-03-09 23:59:00"), False, 0),  # 30 s down
            (local("2026-03-09 23:59:30"), True, 200),  # 60 s, split at midnight: 30 + 30
            (local("2026-03-10 00:00:30"), True, 300),  # 120 s, then unknown until 00:10
            (local("2026-03-10 00:10:00"), False, 0),  # 60 s down
            (local("2026-03-10 00:11:00"), True, 400),  # 120 s, the last one
        ],
    )


async def test_hour_buckets_split_spans_at_midnight_and_leave_gaps_unknown(
    store: Store,
) -> None:
    await _hand_built(store)
    await store.job().rebuild(SCOPE, local("2026-03-09 00:00"), NOW, NOW)
    hours = await store.probe_rollups("hour")
    assert set(hours) == {
        ("dvcqg-portal", at("2026-03-09 12:00")),
        ("dvcqg-portal", at("2026-03-09 23:00")),
        ("dvcqg-portal", at("2026-03-10 00:00")),
    }
    assert hours["dvcqg-portal", at("2026-03-09 12:00")] == (1, 1, 0, 120, 50, 50, 50)
    total, ok, down, covered, p50, p95, p99 = hours["dvcqg-portal", at("2026-03-09 23:00")]
    assert (total, ok, down, covered) == (3, 2, 30, 120)
    # percentile_cont over the ok probes' latencies 100 and 200 ms (linear interpolation).
    assert (p50, p95, p99) == pytest.approx((150, 195, 199))
    total, ok, down, covered, p50, _, _ = hours["dvcqg-portal", at("2026-03-10 00:00")]
    # 30 s carried over midnight + 120 + 60 down + 120; 00:02:30-00:10 is unknown.
    assert (total, ok, down, covered, p50) == (3, 2, 60, 330, 350)


async def test_day_buckets_start_at_local_midnight(store: Store) -> None:
    await _hand_built(store)
    await store.job().rebuild(SCOPE, local("2026-03-09 00:00"), NOW, NOW)
    days = await store.probe_rollups("day")
    assert set(days) == {
        ("dvcqg-portal", at("2026-03-09 00:00")),
        ("dvcqg-portal", at("2026-03-10 00:00")),
    }
    total, ok, down, covered, p50, _, _ = days["dvcqg-portal", at("2026-03-09 00:00")]
    assert (total, ok, down, covered, p50) == (4, 3, 30, 240, 100)
    total, ok, down, covered, p50, _, _ = days["dvcqg-portal", at("2026-03-10 00:00")]
    assert (total, ok, down, covered, p50) == (3, 2, 60, 330, 350)
    stored = await store.rows("SELECT DISTINCT bucket FROM probe_rollups WHERE resolution = 'day'")
    # Local midnight in Asia/Ho_Chi_Minh (UTC+7) is 17:00 UTC the day before.
    assert sorted(r[0].isoformat() for r in stored) == [
        "2026-03-08T17:00:00+00:00",
        "2026-03-09T17:00:00+00:00",
    ]


async def test_spans_stop_at_the_moment_of_rolling(store: Store) -> None:
    await _hand_built(store)
    early = local("2026-03-10 00:11:40")
    await store.job().rebuild(SCOPE, local("2026-03-10 00:00"), early, early)
    hours = await store.probe_rollups("hour")
    # The last result (00:11:00) has stood for 40 s so far, not its full 120 s.
    assert hours["dvcqg-portal", at("2026-03-10 00:00")][3] == 30 + 120 + 60 + 40


async def test_a_bucket_without_an_ok_probe_has_no_latency(store: Store) -> None:
    await store.endpoint("lgsp-nghe-an", 30)
    await store.results(
        "lgsp-nghe-an",
        [(local("2026-03-09 08:00:00"), False, 0), (local("2026-03-09 08:00:30"), False, 0)],
    )
    await store.job().rebuild(SCOPE, local("2026-03-09 00:00"), NOW, NOW)
    hours = await store.probe_rollups("hour")
    assert hours["lgsp-nghe-an", at("2026-03-09 08:00")] == (2, 0, 90, 90, None, None, None)


async def test_day_numbers_are_the_sums_of_their_hours(store: Store) -> None:
    await store.endpoint("csdldc-api", 45)
    start = local("2026-03-09 21:00:00")
    # Irregular times and outcomes, with gaps, over three local hours and two days.
    rows = [
        (start.replace(minute=0) + (i * 97 % 11 + i * 53) * SECOND, i % 7 != 3, i)
        for i in range(240)
    ]
    await store.results("csdldc-api", [(t, ok, float(ms)) for t, ok, ms in rows])
    await store.job().rebuild(SCOPE, local("2026-03-09 00:00"), NOW, NOW)
    hours, days = await store.probe_rollups("hour"), await store.probe_rollups("day")
    for (endpoint, day), (total, ok, down, covered, *_) in days.items():
        mine = [v for (e, h), v in hours.items() if e == endpoint and h.date() == day.date()]
        assert total == sum(v[0] for v in mine) and ok == sum(v[1] for v in mine)
        assert math.isclose(down, sum(v[2] for v in mine))
        assert math.isclose(covered, sum(v[3] for v in mine))
