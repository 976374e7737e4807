"""Periods in the center's time zone, interval arithmetic and recurring windows."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor_center.sla import Period, PeriodError
from monitor_center.sla.intervals import MaintenanceIndex, Window, merge, subtract, total
from monitor_center.sla.model import Figures, Tally

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
H = 3600.0


def test_a_month_is_the_local_month() -> None:
    october = Period.month("2026-10", HCM)
    assert october.start.isoformat() == "2026-10-01T00:00:00+07:00"
    assert october.end.isoformat() == "2026-11-01T00:00:00+07:00"
    assert october.label == "2026-10"
    assert Period.month("2026-12", HCM).end.year == 2027
    days = october.days()
    assert len(days) == 31 and all(d.whole for d in days)
    assert days[0].lo == datetime(2026, 9, 30, 17, tzinfo=ZoneInfo("UTC")).timestamp()


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "oct", ""])
def test_a_bad_month_is_refused(text: str) -> None:
    with pytest.raises(PeriodError, match="YYYY-MM"):
        Period.month(text, HCM)


def test_days_stop_at_now_and_are_cut_at_the_edges() -> None:
    period = Period(datetime(2026, 10, 1, 22, tzinfo=HCM), datetime(2026, 11, 1, tzinfo=HCM), HCM)
    days = period.days(until=datetime(2026, 10, 3, 6, tzinfo=HCM))
    assert [d.date for d in days] == [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)]
    assert [d.whole for d in days] == [False, True, False]
    assert days[0].hi - days[0].lo == 2 * H and days[2].hi - days[2].lo == 6 * H
    assert period.label == "2026-10-01 22:00 .. 2026-11-01 00:00"
    assert len(period.calendar()) == 31


def test_local_days_follow_daylight_saving_time() -> None:
    paris = ZoneInfo("Europe/Paris")
    days = Period.month("2026-10", paris).days()
    assert days[24].date == date(2026, 10, 25)
    assert days[24].next_midnight - days[24].midnight == 25 * H


def test_end_before_start_is_refused() -> None:
    with pytest.raises(PeriodError):
        Period(datetime(2026, 10, 2, tzinfo=HCM), datetime(2026, 10, 1, tzinfo=HCM), HCM)


def test_weekly_and_daily_windows_repeat_from_their_start() -> None:
    weekly = Window("a", None, 0.0, 2 * H, "weekly")
    week = 7 * 24 * H
    assert weekly.occurrences(-week, 3 * week) == [(0.0, 2 * H), (week, week + 2 * H),
                                                   (2 * week, 2 * week + 2 * H)]  # fmt: skip
    assert weekly.occurrences(H, week + H) == [(H, 2 * H), (week, week + H)]
    daily = Window(None, "e", 10 * H, 11 * H, "daily")
    assert len(daily.occurrences(0, 365 * 24 * H)) == 365
    assert Window("a", None, 0.0, H).occurrences(2 * H, 3 * H) == []
    index = MaintenanceIndex([weekly, daily, Window("a", None, 10.5 * H, 12 * H)], 0.0, 24 * H)
    assert index.of("e", "a") == [(0.0, 2 * H), (10 * H, 12 * H)]  # its own and its agency's
    assert index.of("f", "a") == [(0.0, 2 * H), (10.5 * H, 12 * H)]
    assert index.of("e", "b") == [(10 * H, 11 * H)]
    assert index.of("f", "b") == []


intervals = st.lists(
    st.tuples(st.integers(0, 100), st.integers(1, 30)).map(
        lambda t: (float(t[0]), float(t[0] + t[1]))
    ),
    max_size=8,
)


@given(intervals)
def test_subtracting_holes_leaves_the_rest_of_the_time(holes: list[tuple[float, float]]) -> None:
    merged = merge(holes)
    rest = subtract((10.0, 90.0), merged)
    inside = total((max(a, 10.0), min(b, 90.0)) for a, b in merged if a < 90 and b > 10)
    assert total(rest) == pytest.approx(80.0 - inside)
    assert all(b <= c for (_, b), (c, _) in pairwise(rest))


def test_figures_partition_the_time_and_unknown_is_never_up() -> None:
    tally = Tally()
    tally.add(100, 90, 600.0, 5000.0)
    f = Figures.of(tally, span=8000.0, maintenance=1000.0)
    assert (f.known_seconds, f.unknown_seconds, f.maintenance_seconds) == (5000, 2000, 1000)
    assert f.availability_percent == pytest.approx(88.0)
    assert Figures.of(Tally(), 8000.0, 0.0).availability_percent is None
    both = Figures.sum([f, Figures.of(Tally(), 8000.0, 0.0)])
    assert both.availability_percent == pytest.approx(88.0)  # weighted by known time
