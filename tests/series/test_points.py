"""The bucket grid: automatic steps, the point limit, local-midnight origin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor_center.series.points import (
    MAX_POINTS,
    auto_step,
    bucket_count,
    grid_origin,
    smallest_step,
)

START = datetime(2024, 5, 1, tzinfo=UTC)


def test_auto_step_is_round_and_no_finer_than_the_interval() -> None:
    minute = timedelta(minutes=1)
    assert auto_step(START, START + timedelta(hours=6), minute) == minute
    assert auto_step(START, START + timedelta(days=1), minute) == timedelta(minutes=5)
    assert auto_step(START, START + timedelta(days=30), minute) == timedelta(hours=1)
    assert auto_step(START, START + timedelta(hours=1), timedelta(minutes=7)) == timedelta(
        minutes=15
    )


def test_smallest_step_keeps_within_the_limit() -> None:
    end = START + timedelta(days=365)
    step = smallest_step(START, end)
    assert bucket_count(START, end, step) <= MAX_POINTS
    assert bucket_count(START, end, step - timedelta(seconds=1)) > MAX_POINTS


def test_the_grid_starts_at_local_midnight() -> None:
    origin = grid_origin(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert origin.astimezone(UTC) == datetime(2000, 1, 2, 17, 0, tzinfo=UTC)
    assert origin.weekday() == 0  # a Monday: week buckets start on Mondays
