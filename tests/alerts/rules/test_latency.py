"""latency: a nearest-rank percentile over the window against a threshold."""

from __future__ import annotations

import pytest

from alerts.rules import LatencyParams, evaluate_latency, percentile

SLOW = LatencyParams(threshold_ms=800, percentile=95, window=300, min_samples=3)


@pytest.mark.parametrize(
    ("p", "expected"),
    [(50, 50.0), (90, 90.0), (95, 100.0), (99, 100.0), (100, 100.0), (1, 10.0)],
)
def test_the_percentile_is_the_nearest_rank(p: float, expected: float) -> None:
    values = [float(v) for v in range(10, 101, 10)]  # 10 values: 10..100
    assert percentile(values, p) == expected


def test_the_percentile_ignores_input_order() -> None:
    assert percentile([300.0, 100.0, 200.0], 50) == 200.0


def test_the_percentile_of_one_value_is_that_value() -> None:
    assert percentile([42.0], 95) == 42.0


def test_the_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 95)


def test_it_fires_when_the_percentile_exceeds_the_threshold() -> None:
    verdict = evaluate_latency([120, 130, 950, 1200], SLOW)
    assert verdict.active
    assert verdict.value == 1200
    assert verdict.summary == "p95 latency 1,200 ms above 800 ms over the last 5m (4 probes)"


def test_a_single_slow_probe_among_many_does_not_move_the_p95() -> None:
    verdict = evaluate_latency([100.0] * 99 + [5000.0], SLOW)
    assert not verdict.active
    assert verdict.value == 100
    assert "within 800 ms" in verdict.summary


def test_exactly_the_threshold_is_not_above_it() -> None:
    assert not evaluate_latency([800, 800, 800], SLOW).active


def test_too_few_samples_give_no_verdict() -> None:
    verdict = evaluate_latency([5000, 5000], SLOW)
    assert (verdict.active, verdict.value) == (False, None)
    assert verdict.summary == "not enough data: 2 of 3 successful probes in the last 5m"


def test_a_percentile_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match="percentile"):
        LatencyParams(threshold_ms=800, percentile=0)
