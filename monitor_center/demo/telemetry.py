"""Deterministic telemetry curves: transaction counters with a working-day rhythm, and
slowly drifting KPI gauges.

Every value is a pure function of a seed, a series key and the time (epoch seconds), so
the fleet, the backfill and a restarted fleet all agree: a counter read after a restart
continues where it would have been. Nothing here keeps state except caches.

Times are floats, not datetimes: the backfill evaluates these curves millions of times.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

# Vietnam keeps UTC+7 all year (no daylight saving), so a fixed offset is exact and far
# cheaper than a zoneinfo lookup per sample.
ICT = timezone(timedelta(hours=7), "ICT")
HOUR = 3600.0
DAY = 86_400.0
WEEK = 7 * DAY
_ICT_OFFSET = 7 * HOUR
# Weeks of the rhythm start on a local Monday; this one is just before NGSP's records.
_REFERENCE_MONDAY = datetime(2018, 12, 31, tzinfo=ICT).timestamp()

# Relative traffic per local hour on a working day: busy 8:00-17:00 with a lunch dip at
# 12:00 (offices in Vietnam break 11:30-13:30), an evening tail, quiet nights.
HOUR_WEIGHTS = (
    *(0.05, 0.04, 0.03, 0.03, 0.04, 0.08),  # 00-05
    *(0.25, 0.6, 1.5, 1.8, 1.8, 1.5),  # 06-11
    *(0.7, 1.2, 1.7, 1.8, 1.6, 1.0),  # 12-17
    *(0.5, 0.35, 0.3, 0.22, 0.12, 0.07),  # 18-23
)
# Monday..Sunday: Friday afternoons thin out; offices are closed at weekends.
DAY_FACTORS = (1.0, 1.0, 1.0, 1.0, 0.95, 0.4, 0.22)
# Hour-to-hour wobble (log-normal sigma): enough to look alive, never a 50 % drop.
_HOURLY_SIGMA = 0.12
_WEEKS_CACHED = 64


def local_hour_of_week(t: float) -> float:
    """Hours since the local (ICT) Monday 00:00 before ``t``, in [0, 168)."""
    return ((t - _REFERENCE_MONDAY) % WEEK) / HOUR


def _week_rng(seed: int, key: str, week: int) -> random.Random:
    # String seeds hash with SHA-512: stable across processes and PYTHONHASHSEED.
    return random.Random(f"{seed}:{key}:week:{week}")


class CounterCurve:
    """Cumulative transactions of one series since the reference Monday (2018-12-31).

    Each week carries exactly ``daily * 7`` transactions, spread over its 168 hours by
    ``HOUR_WEIGHTS`` x ``DAY_FACTORS`` with a seeded wobble per hour; within an hour the
    rate is constant. So the cumulative value is O(1) to evaluate at any time, strictly
    increasing, and the same for everyone using the same seed and key.
    """

    __slots__ = ("_weeks", "daily", "key", "seed", "weekly")

    def __init__(self, key: str, daily: float, seed: int = 0) -> None:
        if daily <= 0:
            raise ValueError("daily volume must be positive")
        self.key = key
        self.daily = daily
        self.seed = seed
        self.weekly = daily * 7
        self._weeks: OrderedDict[int, list[float]] = OrderedDict()

    def cumulative(self, t: float) -> float:
        """Transactions from the reference Monday to ``t`` (negative before it)."""
        week, hours = divmod((t - _REFERENCE_MONDAY) / HOUR, 168.0)
        fractions = self._week(int(week))
        index = int(hours)
        within = fractions[index] + (fractions[index + 1] - fractions[index]) * (hours - index)
        return self.weekly * (week + within)

    def cumulative_many(self, times: Iterable[float]) -> list[float]:
        """``cumulative`` at each of ``times``; hour boundaries are computed once each,
        which makes a month of minutely history several times cheaper."""
        bounds: dict[int, tuple[float, float]] = {}
        found: list[float] = []
        for t in times:
            hours = (t - _REFERENCE_MONDAY) / HOUR
            hour = math.floor(hours)
            pair = bounds.get(hour)
            if pair is None:
                start = self.cumulative(_REFERENCE_MONDAY + hour * HOUR)
                pair = bounds[hour] = (
                    start,
                    self.cumulative(_REFERENCE_MONDAY + (hour + 1) * HOUR),
                )
            found.append(pair[0] + (pair[1] - pair[0]) * (hours - hour))
        return found

    def rate_per_hour(self, t: float) -> float:
        """Transactions per hour at ``t`` (constant within each local hour)."""
        week, hours = divmod((t - _REFERENCE_MONDAY) / HOUR, 168.0)
        fractions = self._week(int(week))
        index = int(hours)
        return self.weekly * (fractions[index + 1] - fractions[index])

    def _week(self, week: int) -> list[float]:
        """Cumulative share of the week's volume at each hour boundary (169 values)."""
        cached = self._weeks.get(week)
        if cached is not None:
            self._weeks.move_to_end(week)
            return cached
        rng = _week_rng(self.seed, self.key, week)
        weights = [
            DAY_FACTORS[hour // 24] * HOUR_WEIGHTS[hour % 24] * rng.lognormvariate(0, _HOURLY_SIGMA)
            for hour in range(168)
        ]
        scale = 1.0 / math.fsum(weights)
        fractions = [0.0]
        for weight in weights:
            fractions.append(fractions[-1] + weight * scale)
        fractions[-1] = 1.0  # exact, so consecutive weeks join without a step
        self._weeks[week] = fractions
        if len(self._weeks) > _WEEKS_CACHED:
            self._weeks.popitem(last=False)
        return fractions


class Counter:
    """A counter as an agency exposes it: counted since ``since``, or, when ``since`` is
    None, since its process last restarted, once a week at ``restart_hour`` hours into
    the local week (a Prometheus counter of a process that is redeployed weekly).

    The value only decreases at a restart, to the few transactions since it.
    """

    __slots__ = ("curve", "restart_hour", "since")

    def __init__(
        self, curve: CounterCurve, *, since: float | None = None, restart_hour: float = 146.0
    ) -> None:
        if not 0 <= restart_hour < 168:
            raise ValueError("restart_hour must be within the week (0 to 168)")
        self.curve = curve
        self.since = since
        self.restart_hour = restart_hour

    def started(self, t: float) -> float:
        """When the count that is current at ``t`` began."""
        if self.since is not None:
            return self.since
        offset = self.restart_hour * HOUR
        week_start = t - ((t - _REFERENCE_MONDAY) % WEEK)
        restart = week_start + offset
        return restart if restart <= t else restart - WEEK

    def value(self, t: float) -> float:
        """The counter at ``t`` (fractional; agencies publish its floor)."""
        return self.curve.cumulative(t) - self.curve.cumulative(self.started(t))

    def values(self, times: Sequence[float]) -> list[float]:
        """``value`` at each of ``times`` (see ``CounterCurve.cumulative_many``)."""
        starts: dict[float, float] = {}
        found: list[float] = []
        for t, total in zip(times, self.curve.cumulative_many(times), strict=True):
            started = self.started(t)
            base = starts.get(started)
            if base is None:
                base = starts[started] = self.curve.cumulative(started)
            found.append(total - base)
        return found


# --- gauges ------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _knot(seed: int, key: str, day: int) -> float:
    return random.Random(f"{seed}:{key}:day:{day}").gauss(0.0, 1.0)


def smooth_noise(seed: int, key: str, t: float) -> float:
    """A standard-normal wander that changes smoothly over a day (cosine-eased knots at
    local midnights): KPIs are recomputed daily, they do not jump minute to minute."""
    day, frac = divmod((t + _ICT_OFFSET) / DAY, 1.0)
    a, b = _knot(seed, key, int(day)), _knot(seed, key, int(day) + 1)
    ease = (1 - math.cos(math.pi * frac)) / 2
    return a + (b - a) * ease


@lru_cache(maxsize=256)
def _month_day_epoch(year: int, month: int, day: int) -> float:
    return datetime(year, month, day, tzinfo=ICT).timestamp()


def days_since_in_year(t: float, anchor: date) -> float:
    """Days from ``anchor``'s month and day *of t's own local year* to ``t``.

    The demo replays the 2020 programme year every calendar year: the seeds describe
    2020, and a KPI that kept drifting since then would long have passed every target.
    So on 1 January a KPI is back at its 2020 New Year level.
    """
    year = _local_year(int((t + _ICT_OFFSET) // DAY))
    return (t - _month_day_epoch(year, anchor.month, anchor.day)) / DAY


@lru_cache(maxsize=4096)
def _local_year(day: int) -> int:
    return (date(1970, 1, 1) + timedelta(days=day)).year


def clamp(value: float, low: float, high: float) -> float:
    """``value`` limited to ``[low, high]``."""
    return min(high, max(low, value))
