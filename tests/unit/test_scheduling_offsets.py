"""Stable per-endpoint offsets spread probes across the interval."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from monitor_center.scheduling import first_run_at, stable_offset

NOW = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=UTC)


def test_5000_endpoints_at_one_second_do_not_fire_in_one_burst() -> None:
    runs = [first_run_at(NOW, f"province-{i}-portal", 1.0) for i in range(5000)]
    per_10ms = Counter(int(r.timestamp() * 100) for r in runs)
    # Uniform would be 50 per 10 ms slot; a burst would put thousands in one.
    assert max(per_10ms.values()) < 120
    assert len(per_10ms) >= 95


def test_the_offset_is_the_same_after_a_restart() -> None:
    later = NOW + timedelta(hours=3, seconds=7.3)
    a = first_run_at(NOW, "ngsp-portal", 10.0).timestamp()
    b = first_run_at(later, "ngsp-portal", 10.0).timestamp()
    assert abs((b - a) % 10.0) < 1e-6 or abs(((b - a) % 10.0) - 10.0) < 1e-6


@given(
    key=st.text(min_size=1, max_size=40),
    interval=st.floats(min_value=0.5, max_value=3600),
    shift=st.floats(min_value=0, max_value=86400),
)
def test_the_first_run_is_never_in_the_past_nor_more_than_one_interval_away(
    key: str, interval: float, shift: float
) -> None:
    now = NOW + timedelta(seconds=shift)
    first = first_run_at(now, key, interval)
    delta = (first - now).total_seconds()
    assert -1e-3 <= delta <= interval + 1e-3
    assert 0 <= stable_offset(key, interval) < interval
