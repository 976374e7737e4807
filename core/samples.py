"""Time-series samples and the two window functions rules need: increase and rate.

Counter semantics follow Prometheus: a counter only goes up, so a value lower than
the previous one means the process behind it restarted and counted again from 0;
the new value is then the increase since the restart. Unlike Prometheus there is no
extrapolation to the window's edges: the result covers first to last sample, which
is what a rule comparing two windows of the same shape needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class Sample:
    """One value of a series at one time (aware, UTC)."""

    time: datetime
    value: float


def _ordered(samples: Sequence[Sample]) -> Sequence[Sample]:
    # Callers usually pass rows already ordered by time; sorting again is cheap insurance.
    if all(a.time <= b.time for a, b in pairwise(samples)):
        return samples
    return sorted(samples, key=lambda s: s.time)


def increase(samples: Sequence[Sample], *, counter: bool = True) -> float | None:
    """How much the series grew from its first to its last sample.

    For a counter (``counter=True``) a drop counts as a reset: the value after the drop
    is added as is. For a gauge it is simply last minus first (may be negative).
    ``None`` when there are fewer than two samples: one point says nothing about change.
    """
    ordered = _ordered(samples)
    if len(ordered) < 2:
        return None
    if not counter:
        return ordered[-1].value - ordered[0].value
    total = 0.0
    for before, after in pairwise(ordered):
        total += after.value - before.value if after.value >= before.value else after.value
    return total


def rate(samples: Sequence[Sample]) -> float | None:
    """Per-second increase of a counter between its first and last sample.

    ``None`` with fewer than two samples or when they share one timestamp.
    """
    ordered = _ordered(samples)
    grown = increase(ordered)
    if grown is None:
        return None
    seconds = (ordered[-1].time - ordered[0].time).total_seconds()
    return grown / seconds if seconds > 0 else None
