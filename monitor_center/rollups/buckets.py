"""Hour and day buckets in the center's time zone.

A day bucket starts at local midnight, so it lasts 23 or 25 hours where the zone has
daylight saving time. An hour bucket starts on a local whole hour (the same instants as
UTC whole hours in zones with whole-hour offsets, such as Asia/Ho_Chi_Minh). Buckets are
computed here, in Python, and handed to SQL as [start, end) instants.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor_center.db.repositories.rollups import BucketRow, Resolution, Source

RESOLUTIONS: tuple[Resolution, ...] = ("hour", "day")
HOUR = timedelta(hours=1)


def bucket_start(t: datetime, resolution: Resolution, zone: ZoneInfo) -> datetime:
    """Start (UTC) of the bucket holding instant ``t``."""
    local = t.astimezone(zone)
    if resolution == "hour":
        # Subtracting the local minutes keeps this exact across DST changes.
        past = timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
        return (t - past).astimezone(UTC)
    return _midnight(local.date(), zone)


def bucket_end(start: datetime, resolution: Resolution, zone: ZoneInfo) -> datetime:
    """End (UTC, exclusive) of the bucket starting at ``start``."""
    if resolution == "hour":
        return start + HOUR
    return _midnight(start.astimezone(zone).date() + timedelta(days=1), zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def buckets(
    source: Source, resolution: Resolution, lo: datetime, hi: datetime, zone: ZoneInfo
) -> Iterator[BucketRow]:
    """Every bucket overlapping [lo, hi), oldest first."""
    start = bucket_start(lo, resolution, zone)
    while start < hi:
        end = bucket_end(start, resolution, zone)
        yield BucketRow(source, resolution, start, end)
        start = end


def covering(source: Source, lo: datetime, hi: datetime, zone: ZoneInfo) -> set[BucketRow]:
    """Hour and day buckets overlapping [lo, hi)."""
    return {b for r in RESOLUTIONS for b in buckets(source, r, lo, hi, zone)}
