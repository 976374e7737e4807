"""The SLA computation behind the API, the CLI report and the benchmark."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor_center.db.repositories.sla import CatalogAgency, CatalogEndpoint, SlaRepository
from monitor_center.sla.incidents import (
    DEFAULT_MIN_FAILURES,
    failing_stretches,
    find_incidents,
    mtta_mttr,
)
from monitor_center.sla.intervals import MaintenanceIndex, Window, clip, total
from monitor_center.sla.model import (
    AgencySla,
    DayFigures,
    EndpointSla,
    Figures,
    Incident,
    SlaReport,
    Tally,
)
from monitor_center.sla.periods import Day, Period
from monitor_center.sla.plan import Accounts, Target, account


@dataclass(frozen=True, slots=True)
class SlaQuery:
    """What to compute: ``agencies=None`` means every active agency."""

    period: Period
    now: datetime
    agencies: Sequence[str] | None = None
    min_failures: int = DEFAULT_MIN_FAILURES
    days: bool = False
    """Also figures per endpoint and local day (the report's daily strip)."""

    @property
    def until(self) -> datetime:
        """Figures stop at now: time that has not happened yet is not unknown."""
        return max(self.period.start, min(self.period.end, self.now))


def _target(endpoint: CatalogEndpoint, maintenance: MaintenanceIndex) -> Target:
    return Target(endpoint.id, endpoint.agency_id, maintenance.of(endpoint.id, endpoint.agency_id))


def _day_figures(
    target: Target, days: Sequence[Day], tallies: dict[int, Tally]
) -> list[DayFigures]:
    empty = Tally()
    return [
        DayFigures(
            day.date,
            Figures.of(
                tallies.get(i, empty),
                day.hi - day.lo,
                total(clip(target.maintenance, day.lo, day.hi)) if target.maintenance else 0.0,
            ),
        )
        for i, day in enumerate(days)
    ]


def _endpoint_sla(
    endpoint: CatalogEndpoint, target: Target, days: Sequence[Day], accounts: Accounts, t: int
) -> EndpointSla:
    span = days[-1].hi - days[0].lo if days else 0.0
    per_day = accounts.days
    return EndpointSla(
        id=endpoint.id,
        agency=endpoint.agency_id,
        active=endpoint.active,
        figures=Figures.of(accounts.totals[t], span, total(target.maintenance)),
        days=[] if per_day is None else _day_figures(target, days, per_day[t]),
    )


def _agency_sla(
    agency: CatalogAgency,
    endpoints: Sequence[EndpointSla],
    incidents: Sequence[Incident],
    query: SlaQuery,
) -> AgencySla:
    mine = [i for i in incidents if i.agency == agency.id]
    counts = {e.id: sum(i.endpoint == e.id for i in mine) for e in endpoints}
    mtta, mttr = mtta_mttr(mine, query.period.start, query.period.end)
    return AgencySla(
        id=agency.id,
        name=agency.name,
        kind=agency.kind,
        figures=Figures.sum(e.figures for e in endpoints),
        endpoints=[
            EndpointSla(e.id, e.agency, e.active, e.figures, e.days, counts[e.id])
            for e in endpoints
        ],
        incidents=mine,
        mtta_seconds=mtta,
        mttr_seconds=mttr,
    )


def _reported(endpoint: EndpointSla) -> bool:
    """Removed endpoints stay in the history of the periods they were measured in."""
    return endpoint.active or endpoint.figures.probes > 0 or endpoint.figures.known_seconds > 0


async def _catalog(
    repo: SlaRepository, query: SlaQuery
) -> tuple[list[CatalogAgency], list[CatalogEndpoint], MaintenanceIndex]:
    lo, hi = query.period.start.timestamp(), query.until.timestamp()
    agencies, windows = await asyncio.gather(
        repo.agencies(query.agencies), repo.maintenance(lo, hi)
    )
    endpoints = await repo.endpoints([a.id for a in agencies])
    return agencies, endpoints, MaintenanceIndex([Window(*w) for w in windows], lo, hi)


async def compute_sla(repo: SlaRepository, query: SlaQuery) -> SlaReport:
    """Availability, downtime, unknown and maintenance time per endpoint, day and agency,
    with incidents and MTTA/MTTR, over ``query.period`` in its time zone."""
    period, until = query.period, query.until
    agencies, endpoints, maintenance = await _catalog(repo, query)
    targets = [_target(e, maintenance) for e in endpoints]
    days = period.days(until)
    from_alerts, accounts = await asyncio.gather(
        repo.alert_history_exists(period.end),
        account(repo, days, targets, period.zone.key, query.days),
    )
    source, incidents = await find_incidents(
        repo,
        {e.id: e.agency_id for e in endpoints},
        None
        if from_alerts
        else failing_stretches([e.id for e in endpoints], days, accounts.failing),
        period.start,
        period.end,
        query.min_failures,
    )
    by_agency: dict[str, list[EndpointSla]] = {a.id: [] for a in agencies}
    for t, (e, target) in enumerate(zip(endpoints, targets, strict=True)):
        computed = _endpoint_sla(e, target, days, accounts, t)
        if _reported(computed):
            by_agency[e.agency_id].append(computed)
    return SlaReport(
        start=period.start,
        end=period.end,
        until=until,
        timezone=period.zone.key,
        agencies=[_agency_sla(a, by_agency[a.id], incidents, query) for a in agencies],
        incident_source=source,
    )
