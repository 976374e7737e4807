"""Response models of ``/sla``, ``/incidents`` and ``/scorecard``.

Availability is a percentage with 4 decimals, ``null`` when nothing was known in the
period (never 100); seconds have one decimal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from monitor_center.sla import AgencySla, EndpointSla, Figures, Incident, KpiAttainment
from monitor_center.sla import ScoreRow as ScoreRowModel
from monitor_center.sla.scorecard import AVAILABILITY_WEIGHT, KPI_WEIGHT


def _pct(value: float | None) -> float | None:
    if value is None:
        return None
    rounded = round(value, 4)
    # Rounding must not turn a short outage into a perfect month.
    return 99.9999 if rounded == 100.0 and value < 100.0 else rounded


def _figures(f: Figures) -> dict[str, Any]:
    return {
        "availability_percent": _pct(f.availability_percent),
        "probes": f.probes,
        "failed": f.failed,
        "downtime_seconds": round(f.downtime_seconds, 1),
        "known_seconds": round(f.known_seconds, 1),
        "unknown_seconds": round(f.unknown_seconds, 1),
        "maintenance_seconds": round(f.maintenance_seconds, 1),
    }


class FiguresOut(BaseModel):
    availability_percent: float | None = Field(
        description="up / known seconds outside maintenance, in %; null when none known"
    )
    probes: int
    failed: int
    downtime_seconds: float = Field(description="known down, outside maintenance")
    known_seconds: float = Field(description="covered by results, outside maintenance")
    unknown_seconds: float = Field(description="no result (never counted as up)")
    maintenance_seconds: float = Field(description="inside maintenance windows")


class EndpointSlaOut(FiguresOut):
    id: str
    active: bool
    incidents: int

    @classmethod
    def of(cls, e: EndpointSla) -> EndpointSlaOut:
        return cls(id=e.id, active=e.active, incidents=e.incidents, **_figures(e.figures))


class AgencySlaOut(FiguresOut):
    agency: str
    name: str
    kind: str
    start: datetime
    end: datetime
    until: datetime = Field(description="figures are measured up to here (now, at most)")
    timezone: str
    incidents: int
    incident_source: str = Field(description="alert (alert history) or probes (failed runs)")
    mtta_seconds: float | None
    mttr_seconds: float | None
    endpoints: list[EndpointSlaOut]

    @classmethod
    def of(
        cls, a: AgencySla, start: datetime, end: datetime, until: datetime, tz: str, source: str
    ) -> AgencySlaOut:
        return cls(
            agency=a.id,
            name=a.name,
            kind=a.kind,
            start=start,
            end=end,
            until=until,
            timezone=tz,
            incidents=len(a.incidents),
            incident_source=source,
            mtta_seconds=a.mtta_seconds,
            mttr_seconds=a.mttr_seconds,
            endpoints=[EndpointSlaOut.of(e) for e in a.endpoints],
            **_figures(a.figures),
        )


class SlaAllOut(BaseModel):
    start: datetime
    end: datetime
    until: datetime
    timezone: str
    agencies: list[AgencySlaOut]


class IncidentOut(BaseModel):
    endpoint: str
    agency: str
    start: datetime
    end: datetime | None = Field(description="null while still open")
    duration_seconds: float | None
    time_to_acknowledge_seconds: float | None
    acknowledged_by: str | None
    source: str
    alert_id: int | None
    failed_probes: int | None

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        return cls(
            endpoint=i.endpoint,
            agency=i.agency,
            start=i.start,
            end=i.end,
            duration_seconds=i.duration_seconds,
            time_to_acknowledge_seconds=i.time_to_acknowledge_seconds,
            acknowledged_by=i.acknowledged_by,
            source=i.source,
            alert_id=i.alert_id,
            failed_probes=i.failed_probes,
        )


class IncidentsOut(BaseModel):
    start: datetime
    end: datetime
    timezone: str
    source: str
    mtta_seconds: float | None = Field(description="over incidents started in the period")
    mttr_seconds: float | None = Field(description="over those that also ended")
    incidents: list[IncidentOut]


class KpiOut(BaseModel):
    series: str
    kind: str
    unit: str
    target: float
    direction: str
    value: float | None
    attainment_percent: float | None

    @classmethod
    def of(cls, k: KpiAttainment) -> KpiOut:
        return cls(
            series=k.series,
            kind=k.kind,
            unit=k.unit,
            target=k.target,
            direction=k.direction,
            value=k.value,
            attainment_percent=_pct(k.attainment_percent),
        )


class ScoreOut(BaseModel):
    rank: int = Field(description="within the agency's kind; 1 is best")
    agency: str
    name: str
    kind: str
    availability_percent: float | None
    kpi_attainment_percent: float | None
    score: float | None
    availability_unknown: bool = Field(description="ranked last: no known time in the period")
    kpis: list[KpiOut]

    @classmethod
    def of(cls, r: ScoreRowModel) -> ScoreOut:
        return cls(
            rank=r.rank,
            agency=r.agency.id,
            name=r.agency.name,
            kind=r.agency.kind,
            availability_percent=_pct(r.availability_percent),
            kpi_attainment_percent=_pct(r.kpi_attainment_percent),
            score=_pct(r.score),
            availability_unknown=r.availability_unknown,
            kpis=[KpiOut.of(k) for k in r.kpis],
        )


class WeightsOut(BaseModel):
    availability: float = AVAILABILITY_WEIGHT
    kpi: float = KPI_WEIGHT


class ScorecardOut(BaseModel):
    start: datetime
    end: datetime
    timezone: str
    weights: WeightsOut = Field(default_factory=WeightsOut)
    agencies: list[ScoreOut]
