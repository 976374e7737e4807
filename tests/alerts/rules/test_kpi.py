"""kpi_min (below target now) and kpi_forecast (trend misses the target at a deadline)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.rules import KpiForecastParams, evaluate_kpi_forecast, evaluate_kpi_min
from alerts.rules.kpi import linear_fit
from core.samples import Sample
from tests.alerts.rules.helpers import T0, series

DAY = 86_400
DEADLINE = T0 + timedelta(days=100)


def test_a_kpi_below_its_minimum_target_fires_and_says_so() -> None:
    verdict = evaluate_kpi_min(Sample(T0, 15.9), 30, "min", "%", label="level-4 share")
    assert verdict.active
    assert verdict.value == 15.9
    assert verdict.summary == "level-4 share 15.9 % below target 30 %"


def test_a_kpi_at_its_minimum_target_meets_it() -> None:
    verdict = evaluate_kpi_min(Sample(T0, 30), 30, "min", "%")
    assert not verdict.active
    assert verdict.summary == "value 30 % meets target 30 %"


def test_a_max_kpi_fires_above_its_target() -> None:
    verdict = evaluate_kpi_min(Sample(T0, 7.5), 5, "max", "days", label="processing time")
    assert verdict.active
    assert verdict.summary == "processing time 7.5 days above target 5 days"
    assert not evaluate_kpi_min(Sample(T0, 4), 5, "max", "days").active


def test_no_sample_yet_gives_no_verdict() -> None:
    verdict = evaluate_kpi_min(None, 30, "min", "%", label="level-4 share")
    assert (verdict.active, verdict.value) == (False, None)
    assert verdict.summary == "not enough data: no level-4 share sample yet"


def test_the_least_squares_line_of_points_on_a_line_is_that_line() -> None:
    fit = linear_fit(series([10, 12, 14, 16], step=DAY))
    assert fit is not None
    intercept, slope, origin = fit
    assert intercept == pytest.approx(10)
    assert slope * DAY == pytest.approx(2)
    assert origin == T0


def test_the_least_squares_line_averages_noise() -> None:
    fit = linear_fit(series([10, 13, 12, 15, 14], step=DAY))
    assert fit is not None
    assert fit[1] * DAY == pytest.approx(1.0)


def test_a_trend_that_misses_the_target_at_the_deadline_fires() -> None:
    # +0.1 %/day from 20 %: about 30.4 % on day 100 is fine, but the target is 40 %.
    samples = series([20 + 0.1 * d for d in range(5)], step=DAY)
    verdict = evaluate_kpi_forecast(samples, 40, "min", DEADLINE, "%", label="level-4 share")
    assert verdict.active
    assert verdict.value == pytest.approx(30.0)
    assert verdict.summary == (
        "level-4 share projected at 30 % on 2027-03-03 10:00, below target 40 %"
        " (trend +0.1 % per day over 5 samples)"
    )


def test_a_trend_that_meets_the_target_does_not_fire() -> None:
    samples = series([20 + 0.5 * d for d in range(10)], step=DAY)
    verdict = evaluate_kpi_forecast(samples, 40, "min", DEADLINE, "%")
    assert not verdict.active
    assert verdict.value == pytest.approx(70.0)
    assert "meets target 40 %" in verdict.summary


def test_a_max_kpi_trending_up_past_its_target_fires() -> None:
    samples = series([3 + 0.05 * d for d in range(6)], step=DAY)
    assert evaluate_kpi_forecast(samples, 5, "max", DEADLINE, "days").active


def test_too_few_samples_give_no_forecast() -> None:
    verdict = evaluate_kpi_forecast(series([1, 2, 3], step=DAY), 40, "min", DEADLINE, "%")
    assert (verdict.active, verdict.value) == (False, None)
    assert verdict.summary == "not enough data: 3 of 5 value samples for a trend"


def test_samples_all_at_one_time_give_no_trend() -> None:
    same_time = [Sample(T0, v) for v in (1, 2, 3, 4, 5)]
    verdict = evaluate_kpi_forecast(same_time, 40, "min", DEADLINE, "%")
    assert verdict.value is None
    assert "span no time" in verdict.summary


def test_a_deadline_already_passed_is_not_forecast() -> None:
    samples = series([1, 2, 3, 4, 5], step=DAY)
    verdict = evaluate_kpi_forecast(samples, 40, "min", T0 + timedelta(days=1), "%")
    assert (verdict.active, verdict.value) == (False, None)
    assert verdict.summary == "the deadline 2026-11-24 10:00 has passed"


def test_a_forecast_deadline_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        KpiForecastParams(deadline=DEADLINE.replace(tzinfo=None))
