"""KPI attainment: each series with a target, against it, over a period.

The value compared with the target is, for a gauge, its latest value in the period; for
a counter, its mean daily increase (counter targets are per day, e.g. NGSP transactions
a day), from day rollups, or from hour rollups scaled to 24 h before the first day is
rolled up. Attainment, capped at 100 %:

* ``min`` direction (should stay at or above): ``min(100, value / target * 100)``;
* ``max`` direction (should stay at or below): ``100`` when ``value <= target``, else
  ``target / value * 100``;
* no value in the period: unknown (``None``), never 0 and never 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor_center.config import Series
from monitor_center.db.repositories.sla import SeriesFigures, SlaRepository
from monitor_center.sla.model import mean


@dataclass(frozen=True, slots=True)
class KpiAttainment:
    series: str
    agency: str
    kind: str
    unit: str
    target: float
    direction: str
    value: float | None
    attainment_percent: float | None


def attainment(value: float | None, target: float, direction: str) -> float | None:
    """How far ``value`` meets ``target`` in percent (see the module's docstring)."""
    if value is None:
        return None
    if direction == "min":
        if value >= target:
            return 100.0
        return max(0.0, 100.0 * value / target) if target > 0 else 0.0
    if value <= target:
        return 100.0
    return max(0.0, 100.0 * target / value) if value > 0 else 0.0


def _value(series: Series, figures: SeriesFigures | None) -> float | None:
    if figures is None:
        return None
    if series.kind == "gauge":
        return figures.latest
    if figures.days and figures.increase_day is not None:
        return figures.increase_day / figures.days
    if figures.hours and figures.increase_hour is not None:
        return figures.increase_hour / figures.hours * 24
    return None


async def kpi_attainments(
    repo: SlaRepository, series: Sequence[Series], start: datetime, end: datetime
) -> dict[str, list[KpiAttainment]]:
    """Per agency, the attainment of each of its series that has a target."""
    targeted = [s for s in series if s.target is not None]
    figures = {
        f.series_id: f for f in await repo.series_figures([s.id for s in targeted], start, end)
    }
    result: dict[str, list[KpiAttainment]] = {}
    for s in targeted:
        assert s.target is not None
        value = _value(s, figures.get(s.id))
        result.setdefault(s.agency, []).append(
            KpiAttainment(
                series=s.id,
                agency=s.agency,
                kind=s.kind,
                unit=s.unit,
                target=s.target,
                direction=s.target_direction,
                value=value,
                attainment_percent=attainment(value, s.target, s.target_direction),
            )
        )
    return result


def overall(kpis: Sequence[KpiAttainment]) -> float | None:
    """An agency's KPI attainment: the mean over its series with a known value."""
    return mean(k.attainment_percent for k in kpis)
