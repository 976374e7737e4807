"""The agency scorecard: availability and KPI attainment, ranked within each kind.

``score = 0.7 * availability_percent + 0.3 * kpi_attainment_percent``; an agency without
a KPI value scores its availability alone; an agency whose availability is unknown has
no score and is ranked after every agency with one (marked ``availability_unknown``).
Ties go to the higher availability, then to the id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor_center.config import Series
from monitor_center.db.repositories.sla import SlaRepository
from monitor_center.sla.availability import SlaQuery, compute_sla
from monitor_center.sla.kpi import KpiAttainment, kpi_attainments, overall
from monitor_center.sla.model import AgencySla, SlaReport

AVAILABILITY_WEIGHT = 0.7
KPI_WEIGHT = 0.3


@dataclass(frozen=True, slots=True)
class ScoreRow:
    rank: int
    agency: AgencySla
    availability_percent: float | None
    kpi_attainment_percent: float | None
    score: float | None
    kpis: list[KpiAttainment] = field(default_factory=list)

    @property
    def availability_unknown(self) -> bool:
        return self.availability_percent is None


@dataclass(frozen=True, slots=True)
class Scorecard:
    report: SlaReport
    rows: list[ScoreRow]


def score(availability: float | None, kpi: float | None) -> float | None:
    """The weighted score (see the module's docstring)."""
    if availability is None:
        return None
    if kpi is None:
        return availability
    return AVAILABILITY_WEIGHT * availability + KPI_WEIGHT * kpi


def _order(row: ScoreRow) -> tuple[bool, float, float, str]:
    return (
        row.score is None,
        -(row.score or 0.0),
        -(row.availability_percent or 0.0),
        row.agency.id,
    )


def rank(rows: Sequence[ScoreRow]) -> list[ScoreRow]:
    """Rows ordered by kind, then rank (1 = best) within the kind."""
    ranked: list[ScoreRow] = []
    for kind in sorted({r.agency.kind for r in rows}):
        ordered = sorted((r for r in rows if r.agency.kind == kind), key=_order)
        ranked += [
            ScoreRow(i, r.agency, r.availability_percent, r.kpi_attainment_percent, r.score, r.kpis)
            for i, r in enumerate(ordered, start=1)
        ]
    return ranked


async def build_scorecard(
    repo: SlaRepository, query: SlaQuery, series: Sequence[Series], kind: str | None = None
) -> Scorecard:
    """Compute the SLA of every agency (of ``kind``) and rank them."""
    report = await compute_sla(repo, query)
    kpis = await kpi_attainments(repo, series, query.period.start, query.period.end)
    rows = []
    for agency in report.agencies:
        if kind is not None and agency.kind != kind:
            continue
        mine = kpis.get(agency.id, [])
        availability, kpi = agency.figures.availability_percent, overall(mine)
        rows.append(ScoreRow(0, agency, availability, kpi, score(availability, kpi), mine))
    return Scorecard(report, rank(rows))
