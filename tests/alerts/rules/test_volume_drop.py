"""volume_drop: the window's volume against the same window a week earlier."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.rules import VolumeDropParams, evaluate_volume_drop
from tests.alerts.rules.helpers import T0, series

HALF = VolumeDropParams(drop_percent=50, window=3600, min_volume=100)
LAST_WEEK = T0 - timedelta(days=7)


def test_a_volume_below_the_share_of_last_week_fires() -> None:
    current = series([5000, 5100, 5200])  # +200
    baseline = series([1000, 1500, 2000], start=LAST_WEEK)  # +1000
    verdict = evaluate_volume_drop(current, baseline, HALF)
    assert verdict.active
    assert verdict.value == pytest.approx(20.0)
    assert verdict.summary == "volume 200 over the last 1h is 20 % of 1,000 7d earlier (below 50 %)"


def test_a_volume_at_the_share_does_not_fire() -> None:
    verdict = evaluate_volume_drop(series([0, 500]), series([0, 1000], start=LAST_WEEK), HALF)
    assert not verdict.active
    assert verdict.value == pytest.approx(50.0)
    assert "(not below 50 %)" in verdict.summary


def test_a_counter_reset_inside_the_window_is_not_a_drop() -> None:
    # 9000 -> 9400 (+400), the exporter restarts, 300 (+300), 600 (+300): 1000 in all.
    current = series([9000, 9400, 300, 600])
    baseline = series([0, 1000], start=LAST_WEEK)
    verdict = evaluate_volume_drop(current, baseline, HALF)
    assert not verdict.active
    assert verdict.value == pytest.approx(100.0)


def test_a_quiet_night_below_the_minimum_volume_never_pages() -> None:
    current = series([10, 10])  # nothing at all tonight
    baseline = series([0, 40], start=LAST_WEEK)  # 40 last week: below min_volume 100
    verdict = evaluate_volume_drop(current, baseline, HALF)
    assert (verdict.active, verdict.value) == (False, None)
    assert "too quiet to judge" in verdict.summary


def test_a_zero_baseline_is_too_quiet_even_without_a_minimum() -> None:
    no_minimum = VolumeDropParams(drop_percent=50)
    verdict = evaluate_volume_drop(series([0, 0]), series([7, 7], start=LAST_WEEK), no_minimum)
    assert (verdict.active, verdict.value) == (False, None)


@pytest.mark.parametrize(
    ("current", "baseline", "side"),
    [([], [0, 1000], "this window"), ([0, 1], [5], "the baseline window")],
)
def test_too_few_samples_on_either_side_give_no_verdict(
    current: list[float], baseline: list[float], side: str
) -> None:
    verdict = evaluate_volume_drop(series(current), series(baseline, start=LAST_WEEK), HALF)
    assert (verdict.active, verdict.value) == (False, None)
    assert verdict.summary == f"not enough data: fewer than 2 samples in {side} (1h)"


def test_a_gauge_volume_is_last_minus_first_without_reset_handling() -> None:
    gauge = VolumeDropParams(drop_percent=50, counter=False)
    # A daily gauge that went down: with counter semantics the drop would count as +100.
    verdict = evaluate_volume_drop(series([500, 100]), series([0, 1000], start=LAST_WEEK), gauge)
    assert verdict.active
    assert verdict.value == pytest.approx(-40.0)


def test_a_drop_percent_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match="drop_percent"):
        VolumeDropParams(drop_percent=0)
