"""``no_data``: a series or endpoint without a fresh sample for N intervals.

Staleness is counted from the later of the last sample and `since` (when this
center started evaluating): a brand-new center, or one back from a restart, gives
its collectors N intervals to report before calling anything stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alerts.rules.common import SubjectType, Verdict, format_seconds


@dataclass(frozen=True, slots=True)
class NoDataParams:
    """Fire after ``intervals`` collection intervals without data from the ``subject``."""

    intervals: int = 3
    subject: SubjectType = "series"

    def __post_init__(self) -> None:
        if self.intervals < 1:
            raise ValueError("intervals must be at least 1")


def evaluate_no_data(
    last: datetime | None,
    now: datetime,
    interval_seconds: float,
    p: NoDataParams,
    since: datetime,
) -> Verdict:
    """Active when nothing arrived for ``p.intervals x interval_seconds``.

    `last` is the newest sample's (or probe's) time, None if never seen. The value
    is the silence in seconds, counted from ``max(last, since)``.
    """
    start = since if last is None else max(last, since)
    silence = max(0.0, (now - start).total_seconds())
    limit = p.intervals * interval_seconds
    expected = f"expected every {format_seconds(interval_seconds)}"
    if last is None:
        what = f"no data yet, {format_seconds(silence)} after evaluation started ({expected})"
    else:
        what = f"last data {format_seconds((now - last).total_seconds())} ago ({expected})"
    if silence > limit:
        return Verdict(True, silence, f"{what}: stale for more than {format_seconds(limit)}")
    return Verdict(False, silence, what)
