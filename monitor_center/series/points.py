"""The bucket grid of ``GET /series/{id}/points``: steps, limits and the grid's origin."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

MAX_POINTS = 10_000
"""Most buckets one request may ask for; past it the client must take a larger step."""
AUTO_POINTS = 1_000
# Steps tried in order when the client gives none: round numbers people read easily.
_LADDER = tuple(
    timedelta(seconds=s) for s in (10, 30, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)
)


def bucket_count(start: datetime, end: datetime, step: timedelta) -> int:
    """How many ``step`` buckets ``[start, end)`` spans (at most, on any grid)."""
    return math.ceil((end - start) / step)


def smallest_step(start: datetime, end: datetime, limit: int = MAX_POINTS) -> timedelta:
    """The smallest whole-second step that keeps ``[start, end)`` within ``limit`` buckets."""
    return timedelta(seconds=math.ceil((end - start).total_seconds() / limit))


def auto_step(start: datetime, end: datetime, interval: timedelta) -> timedelta:
    """A round step, no finer than the series' interval, giving at most ~1,000 buckets."""
    for step in _LADDER:
        if step >= interval and bucket_count(start, end, step) <= AUTO_POINTS:
            return step
    return max(smallest_step(start, end, AUTO_POINTS), interval)


def grid_origin(zone: tzinfo) -> datetime:
    """Where buckets start: a Monday midnight in the center's zone, so day and week
    buckets begin at local midnight (and on Mondays), whatever the request's range."""
    return datetime(2000, 1, 3, tzinfo=zone)
