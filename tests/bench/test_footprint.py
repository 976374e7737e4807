"""The footprint rows: a side that did not probe every endpoint has no footprint of them."""

from __future__ import annotations

from bench.rss import UNMEASURED, Footprint, _rows


def test_the_center_against_prometheus_reads_better_when_it_holds_less() -> None:
    steady, peak = _rows(10_000, 60.0, Footprint(144, 150, 10_000), Footprint(1141, 1218, 10_000))
    assert (steady.measured, steady.reference, steady.meets_target) == (144, 1141, True)
    assert steady.ratio is not None and steady.ratio > 7
    assert peak.measured == 150


def test_a_center_that_probed_fewer_endpoints_than_asked_has_no_figure() -> None:
    steady, peak = _rows(10_000, 60.0, Footprint(137, 139, 0), Footprint(1141, 1218, 10_000))
    assert steady.measured is None
    assert steady.meets_target is None  # n/a, not "yes" for a fleet it never probed
    assert peak.measured is None
    assert "center probed only 0 of 10,000 endpoints in time (steady 137 MB" in steady.note


def test_without_prometheus_the_reference_is_named_as_unmeasured() -> None:
    steady, _ = _rows(10_000, 60.0, Footprint(144, 150, 10_000), None)
    assert steady.reference is None
    assert steady.reference_name == UNMEASURED
