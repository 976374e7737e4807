"""availability: multi-window burn rates against the SLO's error budget."""

from __future__ import annotations

import pytest

from alerts.rules import AvailabilityParams, BurnWindow, WindowCounts, evaluate_availability

SLO = AvailabilityParams(objective=99.5)  # budget 0.5 %: fast fires above 7.2 %, slow above 3 %


def counts(
    h1: float = 0.0, m5: float = 0.0, h6: float = 0.0, m30: float = 0.0
) -> dict[float, WindowCounts]:
    """Error rates per window, as 1000 probes each."""
    rates = {3600.0: h1, 300.0: m5, 21600.0: h6, 1800.0: m30}
    return {window: WindowCounts(1000, round(rate * 1000)) for window, rate in rates.items()}


def test_the_window_lengths_are_every_long_and_short_window_once() -> None:
    assert SLO.window_lengths() == (300, 1800, 3600, 21600)
    shared = AvailabilityParams(99, (BurnWindow(3600, 300, 10), BurnWindow(3600, 600, 5)))
    assert shared.window_lengths() == (300, 600, 3600)


def test_fast_burn_in_both_windows_fires_and_names_the_windows() -> None:
    verdict = evaluate_availability(counts(h1=0.10, m5=0.20, h6=0.02, m30=0.02), SLO)
    assert verdict.active
    assert verdict.value == pytest.approx(20.0)
    assert verdict.summary == (
        "burning the error budget of the 99.5 % objective: burn rate 20x over 1h"
        " and 40x over 5m (alert above 14.4x)"
    )


def test_only_the_long_window_burning_means_it_is_over_and_does_not_fire() -> None:
    verdict = evaluate_availability(counts(h1=0.10, m5=0.0, h6=0.02, m30=0.0), SLO)
    assert not verdict.active
    assert verdict.value == pytest.approx(20.0)
    assert verdict.summary.startswith("within the 99.5 % objective: burn rate 20x over 1h")


def test_only_the_short_window_burning_is_a_blip_and_does_not_fire() -> None:
    assert not evaluate_availability(counts(h1=0.01, m5=0.5, h6=0.01, m30=0.01), SLO).active


def test_a_slow_burn_fires_through_the_six_hour_pair() -> None:
    verdict = evaluate_availability(counts(h1=0.04, m5=0.04, h6=0.04, m30=0.04), SLO)
    assert verdict.active
    assert "8x over 6h and 8x over 30m (alert above 6x)" in verdict.summary


def test_exactly_the_factor_is_not_above_it() -> None:
    assert not evaluate_availability(counts(h1=0.072, m5=0.072), SLO).active


def test_no_probes_at_all_gives_no_verdict() -> None:
    empty = {w: WindowCounts(0, 0) for w in SLO.window_lengths()}
    verdict = evaluate_availability(empty, SLO)
    assert (verdict.active, verdict.value) == (False, None)
    assert verdict.summary.startswith("not enough data")


def test_a_pair_with_a_missing_window_is_skipped_and_the_others_still_judge() -> None:
    partial = {21600.0: WindowCounts(100, 10), 1800.0: WindowCounts(10, 1)}
    verdict = evaluate_availability(partial, SLO)
    assert verdict.active
    assert "over 6h" in verdict.summary


def test_configurable_windows_are_used_instead_of_the_defaults() -> None:
    strict = AvailabilityParams(objective=99.0, windows=(BurnWindow(600, 60, 2.0),))
    burning = {600.0: WindowCounts(100, 3), 60.0: WindowCounts(10, 1)}
    assert evaluate_availability(burning, strict).active


@pytest.mark.parametrize("objective", [0, 100, 150])
def test_an_objective_outside_0_to_100_is_refused(objective: float) -> None:
    with pytest.raises(ValueError, match="objective"):
        AvailabilityParams(objective)


def test_a_burn_window_whose_short_is_not_shorter_is_refused() -> None:
    with pytest.raises(ValueError, match="short < long"):
        BurnWindow(300, 300, 2)
