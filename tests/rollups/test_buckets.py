"""Hour and day buckets in the center's time zone (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor_center.rollups.buckets import bucket_end, bucket_start, buckets, covering

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_day_starts_at_local_midnight() -> None:
    # 2026-03-09 16:59 UTC is 23:59 in Ha Noi; 17:00 UTC is the next local day.
    assert bucket_start(utc("2026-03-09 16:59"), "day", HCM) == utc("2026-03-08 17:00")
    assert bucket_start(utc("2026-03-09 17:00"), "day", HCM) == utc("2026-03-09 17:00")
    assert bucket_end(utc("2026-03-09 17:00"), "day", HCM) == utc("2026-03-10 17:00")


def test_hours_follow_the_local_clock_in_a_half_hour_zone() -> None:
    india = ZoneInfo("Asia/Kolkata")  # UTC+05:30: local hours start at hh:30 UTC
    assert bucket_start(utc("2026-03-09 10:29"), "hour", india) == utc("2026-03-09 09:30")
    assert bucket_end(utc("2026-03-09 09:30"), "hour", india) == utc("2026-03-09 10:30")


def test_a_day_with_a_daylight_saving_change_lasts_23_hours() -> None:
    paris = ZoneInfo("Europe/Paris")
    start = bucket_start(utc("2026-03-29 12:00"), "day", paris)
    assert bucket_end(start, "day", paris) - start == timedelta(hours=23)
    assert len(list(buckets("probe", "hour", start, bucket_end(start, "day", paris), paris))) == 23


def test_covering_lists_every_hour_and_day_a_range_touches() -> None:
    found = covering("series", utc("2026-03-09 16:30"), utc("2026-03-09 17:30"), HCM)
    assert sorted((b.resolution, b.start) for b in found) == [
        ("day", utc("2026-03-08 17:00")),
        ("day", utc("2026-03-09 17:00")),
        ("hour", utc("2026-03-09 16:00")),
        ("hour", utc("2026-03-09 17:00")),
    ]
    assert all(b.source == "series" for b in found)
