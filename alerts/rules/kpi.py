"""``kpi_min`` (a KPI misses its target now) and ``kpi_forecast`` (its trend will
miss the target at a deadline).

``direction`` ``min`` means the KPI should stay at or above the target (a share of
level-4 online services), ``max`` at or below it (average processing days). In
the params, ``None`` for target or direction means "take the series' own".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from alerts.rules.common import Direction, Verdict, format_quantity
from core.samples import Sample

_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class KpiMinParams:
    """Fire while the latest value misses ``target`` (None: the series' target)."""

    target: float | None = None
    direction: Direction | None = None


@dataclass(frozen=True, slots=True)
class KpiForecastParams:
    """Fit a line to the last ``window`` seconds of samples and project it to ``deadline``."""

    deadline: datetime
    window: float = 30 * _DAY
    min_samples: int = 5
    target: float | None = None
    direction: Direction | None = None

    def __post_init__(self) -> None:
        if self.deadline.tzinfo is None:
            raise ValueError("deadline must be an aware datetime")
        if self.window <= 0 or self.min_samples < 2:
            raise ValueError("window must be positive and min_samples at least 2")


def misses(value: float, target: float, direction: Direction) -> bool:
    """True when `value` is on the wrong side of `target`."""
    return value < target if direction == "min" else value > target


def _relation(missed: bool, direction: Direction) -> str:
    if missed:
        return "below" if direction == "min" else "above"
    return "meets" if direction == "min" else "within"


def evaluate_kpi_min(
    latest: Sample | None,
    target: float,
    direction: Direction,
    unit: str,
    *,
    label: str = "value",
) -> Verdict:
    """Judge the latest value, e.g. ``level-4 share 15.9 % below target 30 %``."""
    if latest is None:
        return Verdict.insufficient(f"not enough data: no {label} sample yet")
    missed = misses(latest.value, target, direction)
    return Verdict(
        active=missed,
        value=latest.value,
        summary=(
            f"{label} {format_quantity(latest.value, unit)} {_relation(missed, direction)}"
            f" target {format_quantity(target, unit)}"
        ),
    )


def linear_fit(samples: Sequence[Sample]) -> tuple[float, float, datetime] | None:
    """Least-squares line through the samples: (value at origin, slope per second, origin).

    The origin is the first sample's time, which keeps the numbers small. None when
    the samples do not span any time (a line needs two distinct times).
    """
    if len(samples) < 2:
        return None
    origin = min(s.time for s in samples)
    xs = [(s.time - origin).total_seconds() for s in samples]
    ys = [s.value for s in samples]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return mean_y - slope * mean_x, slope, origin


def _day(moment: datetime) -> str:
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


def evaluate_kpi_forecast(
    samples: Sequence[Sample],
    target: float,
    direction: Direction,
    deadline: datetime,
    unit: str,
    *,
    min_samples: int = 5,
    label: str = "value",
) -> Verdict:
    """Project the least-squares trend of `samples` to `deadline`; active if it misses.

    The value is the projected value at the deadline. A deadline that is already
    past the newest sample is not forecast (``kpi_min`` judges the present).
    """
    if len(samples) < min_samples:
        return Verdict.insufficient(
            f"not enough data: {len(samples)} of {min_samples} {label} samples for a trend"
        )
    fit = linear_fit(samples)
    if fit is None:
        return Verdict.insufficient(f"not enough data: the {label} samples span no time")
    intercept, slope, origin = fit
    if deadline <= max(s.time for s in samples):
        return Verdict.insufficient(f"the deadline {_day(deadline)} has passed")
    projected = intercept + slope * (deadline - origin).total_seconds()
    missed = misses(projected, target, direction)
    trend = f"{slope * _DAY:+.3g}"
    return Verdict(
        active=missed,
        value=projected,
        summary=(
            f"{label} projected at {format_quantity(projected, unit)} on {_day(deadline)},"
            f" {_relation(missed, direction)} target {format_quantity(target, unit)}"
            f" (trend {trend} {unit + ' ' if unit else ''}per day over {len(samples)} samples)"
        ),
    )
