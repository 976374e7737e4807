"""increase() and rate() over a window, with Prometheus counter-reset semantics."""

from __future__ import annotations

import pytest

from core.samples import increase, rate
from tests.alerts.rules.helpers import series


def test_a_counter_increase_is_last_minus_first_when_it_only_grows() -> None:
    assert increase(series([100, 150, 230])) == 130


def test_a_counter_drop_is_a_restart_from_zero_and_the_new_value_is_added() -> None:
    # 100 -> 150 (+50), restart, 20 (+20), 70 (+50)
    assert increase(series([100, 150, 20, 70])) == 120


def test_a_counter_reset_to_exactly_zero_adds_nothing_for_that_step() -> None:
    assert increase(series([10, 0, 5])) == 5


def test_a_gauge_increase_is_last_minus_first_even_when_negative() -> None:
    assert increase(series([30, 10, 25]), counter=False) == -5


def test_increase_needs_two_samples() -> None:
    assert increase([]) is None
    assert increase(series([42])) is None


def test_samples_out_of_order_are_sorted_by_time_first() -> None:
    ordered = series([100, 150, 20, 70])
    assert increase(list(reversed(ordered))) == 120


def test_rate_is_the_increase_per_second_over_the_samples_span() -> None:
    assert rate(series([0, 300, 600], step=300)) == pytest.approx(1.0)


def test_rate_handles_a_reset_like_increase() -> None:
    assert rate(series([100, 10], step=10)) == pytest.approx(1.0)


def test_rate_is_none_without_a_time_span() -> None:
    assert rate(series([1])) is None
    assert rate(series([1, 2], step=0)) is None
