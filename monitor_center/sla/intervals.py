"""Half-open time intervals as epoch seconds, and maintenance windows expanded over them.

Floats rather than datetimes: a monthly report over a thousand endpoints walks tens of
thousands of intervals, and float arithmetic keeps that well inside its time budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Interval = tuple[float, float]
"""``(lo, hi)`` in epoch seconds, ``lo < hi``, covering ``lo <= t < hi``."""

_RECURRENCE = {"daily": 86_400.0, "weekly": 7 * 86_400.0}


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping and non-adjacent intervals covering the same time."""
    result: list[Interval] = []
    for lo, hi in sorted(i for i in intervals if i[1] > i[0]):
        if result and lo <= result[-1][1]:
            if hi > result[-1][1]:
                result[-1] = (result[-1][0], hi)
        else:
            result.append((lo, hi))
    return result


def subtract(base: Interval, holes: Sequence[Interval]) -> list[Interval]:
    """``base`` minus the (merged, sorted) ``holes``."""
    lo, hi = base
    result: list[Interval] = []
    for h_lo, h_hi in holes:
        if h_hi <= lo or h_lo >= hi:
            continue
        if h_lo > lo:
            result.append((lo, h_lo))
        lo = max(lo, h_hi)
    if lo < hi:
        result.append((lo, hi))
    return result


def clip(intervals: Sequence[Interval], lo: float, hi: float) -> list[Interval]:
    """The parts of ``intervals`` inside ``[lo, hi)``."""
    return [(max(a, lo), min(b, hi)) for a, b in intervals if a < hi and b > lo]


def total(intervals: Iterable[Interval]) -> float:
    """Seconds covered by (non-overlapping) intervals."""
    return sum(hi - lo for lo, hi in intervals)


@dataclass(frozen=True, slots=True)
class Window:
    """A maintenance window as stored: one-off, or repeated every day or week from its
    start (the same rule the alerting policy applies). An endpoint window covers that
    endpoint; an agency window every endpoint of the agency."""

    agency: str | None
    endpoint: str | None
    starts_at: float
    ends_at: float
    recurring: str | None = None

    def occurrences(self, lo: float, hi: float) -> list[Interval]:
        """Every repetition of the window that overlaps ``[lo, hi)``, clipped to it."""
        if self.recurring is None:
            return clip([(self.starts_at, self.ends_at)], lo, hi)
        step = _RECURRENCE[self.recurring]
        length = self.ends_at - self.starts_at
        # Repetitions start at starts_at + k * step for k >= 0 (none before the first).
        k = max(0, math.floor((lo - self.ends_at) / step))
        found: list[Interval] = []
        while (start := self.starts_at + k * step) < hi:
            if start + length > lo:
                found.append((max(start, lo), min(start + length, hi)))
            k += 1
        return found


class MaintenanceIndex:
    """Every window's occurrences within ``[lo, hi)``, expanded once per agency and per
    endpoint (a thousand endpoints share a few dozen windows)."""

    def __init__(self, windows: Sequence[Window], lo: float, hi: float) -> None:
        by_agency: dict[str, list[Interval]] = {}
        by_endpoint: dict[str, list[Interval]] = {}
        for w in windows:
            if w.endpoint is not None:
                by_endpoint.setdefault(w.endpoint, []).extend(w.occurrences(lo, hi))
            elif w.agency is not None:
                by_agency.setdefault(w.agency, []).extend(w.occurrences(lo, hi))
        self._agency = {a: merge(i) for a, i in by_agency.items()}
        self._endpoint = by_endpoint

    def of(self, endpoint: str, agency: str) -> list[Interval]:
        """The merged maintenance time of one endpoint (its own windows and its agency's)."""
        own = self._endpoint.get(endpoint)
        shared = self._agency.get(agency, [])
        return merge([*own, *shared]) if own else shared
