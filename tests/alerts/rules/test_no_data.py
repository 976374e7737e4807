"""no_data: nothing fresh for N intervals; never-seen subjects wait from `since`."""

from __future__ import annotations

from datetime import timedelta

from alerts.rules import NoDataParams, evaluate_no_data
from tests.alerts.rules.helpers import T0

THREE = NoDataParams(intervals=3)
STARTED = T0 - timedelta(hours=1)


def test_a_series_silent_for_more_than_n_intervals_fires() -> None:
    verdict = evaluate_no_data(T0 - timedelta(minutes=4), T0, 60, THREE, STARTED)
    assert verdict.active
    assert verdict.value == 240
    assert verdict.summary == "last data 4m ago (expected every 1m): stale for more than 3m"


def test_a_series_silent_for_exactly_n_intervals_does_not_fire_yet() -> None:
    verdict = evaluate_no_data(T0 - timedelta(minutes=3), T0, 60, THREE, STARTED)
    assert not verdict.active
    assert verdict.summary == "last data 3m ago (expected every 1m)"


def test_a_fresh_series_does_not_fire() -> None:
    assert not evaluate_no_data(T0 - timedelta(seconds=5), T0, 60, THREE, STARTED).active


def test_a_never_seen_subject_on_a_new_center_waits_n_intervals_from_the_start() -> None:
    just_started = T0 - timedelta(minutes=2)
    waiting = evaluate_no_data(None, T0, 60, THREE, just_started)
    assert not waiting.active
    assert waiting.summary == "no data yet, 2m after evaluation started (expected every 1m)"
    later = evaluate_no_data(None, T0 + timedelta(minutes=2), 60, THREE, just_started)
    assert later.active
    assert later.value == 240


def test_data_older_than_a_restart_is_stale_only_after_the_grace_period() -> None:
    restarted = T0 - timedelta(minutes=1)
    day_old = T0 - timedelta(days=1)
    assert not evaluate_no_data(day_old, T0, 60, THREE, restarted).active
    late = evaluate_no_data(day_old, T0 + timedelta(minutes=5), 60, THREE, restarted)
    assert late.active
    assert late.summary.startswith("last data 1d5m ago")


def test_the_interval_scales_the_limit() -> None:
    hourly = NoDataParams(intervals=2, subject="endpoint")
    long_ago = T0 - timedelta(days=1)
    assert not evaluate_no_data(T0 - timedelta(minutes=90), T0, 3600, hourly, long_ago).active
    assert evaluate_no_data(T0 - timedelta(hours=3), T0, 3600, hourly, long_ago).active
