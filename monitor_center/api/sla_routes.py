"""``/api/v1/sla``, ``/api/v1/incidents`` and ``/api/v1/scorecard`` (viewer).

An agency-scoped token sees its own agency only: another agency answers 404, and lists
hold its own rows alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from psycopg_pool import AsyncConnectionPool

from monitor_center.api.auth import Principal, require
from monitor_center.api.sla_schemas import (
    AgencySlaOut,
    IncidentOut,
    IncidentsOut,
    ScorecardOut,
    ScoreOut,
    SlaAllOut,
)
from monitor_center.db.repositories.sla import SlaRepository
from monitor_center.sla import Period, PeriodError, SlaQuery, build_scorecard, compute_sla
from monitor_center.sla.incidents import mtta_mttr

if TYPE_CHECKING:
    from monitor_center.api.app import AppContext

Viewer = Annotated[Principal, Depends(require("viewer"))]
MAX_PERIOD = timedelta(days=400)
"""A bound on the work one request can ask for (a year and a bit)."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)

StartQ = Annotated[
    datetime | None,
    Query(description="ISO 8601; without an offset: the center's time zone (default: "
          "the start of the current local month)"),
]  # fmt: skip
EndQ = Annotated[datetime | None, Query(description="exclusive (default: the month's end)")]


def _pool(ctx: AppContext) -> AsyncConnectionPool:
    """The service's pool (set once the service has connected)."""
    if ctx.pool is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the database is not connected")
    return ctx.pool


def sla_repository(request: Request) -> SlaRepository:
    """A FastAPI dependency (tests override it with their own pool)."""
    return SlaRepository(_pool(request.app.state.ctx))


Repo = Annotated[SlaRepository, Depends(sla_repository)]


def _query(request: Request, start: datetime | None, end: datetime | None) -> SlaQuery:
    ctx: AppContext = request.app.state.ctx
    zone = ctx.config.center.zone
    now = datetime.now(UTC)
    month = Period.month(f"{now.astimezone(zone):%Y-%m}", zone)
    start = (
        month.start if start is None else (start if start.tzinfo else start.replace(tzinfo=zone))
    )
    end = month.end if end is None else (end if end.tzinfo else end.replace(tzinfo=zone))
    if start < EARLIEST or end > LATEST:  # datetime arithmetic overflows near its limits
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "times must lie between 1970 and 9999"
        )
    if end - start > MAX_PERIOD:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the period is over 400 days")
    try:
        return SlaQuery(Period(start, end, zone), now)
    except PeriodError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def _scope(principal: Principal, agency: str | None) -> list[str] | None:
    """The agencies to compute: the one asked for, the token's own, or all (None)."""
    if agency is not None and principal.agency not in (None, agency):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no agency '{agency}'")
    if agency is not None:
        return [agency]
    return None if principal.agency is None else [principal.agency]


def add_sla_routes(app: FastAPI) -> None:
    """Register the SLA history routes."""
    _sla_route(app)
    _incidents_route(app)
    _scorecard_route(app)


def _sla_route(app: FastAPI) -> None:
    @app.get("/api/v1/sla", response_model=AgencySlaOut | SlaAllOut, tags=["sla"])
    async def sla(
        request: Request,
        principal: Viewer,
        repo: Repo,
        agency: Annotated[str | None, Query(description="one agency; absent: all")] = None,
        start: StartQ = None,
        end: EndQ = None,
    ) -> AgencySlaOut | SlaAllOut:
        """Availability, downtime, unknown and maintenance time per endpoint and agency."""
        query = _query(request, start, end)
        scope = _scope(principal, agency)
        report = await compute_sla(repo, SlaQuery(query.period, query.now, scope))
        out = [
            AgencySlaOut.of(a, report.start, report.end, report.until, report.timezone,
                            report.incident_source)
            for a in report.agencies
        ]  # fmt: skip
        if agency is None:
            return SlaAllOut(
                start=report.start, end=report.end, until=report.until,
                timezone=report.timezone, agencies=out,
            )  # fmt: skip
        if not out:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no agency '{agency}'")
        return out[0]


def _incidents_route(app: FastAPI) -> None:
    @app.get("/api/v1/incidents", response_model=IncidentsOut, tags=["sla"])
    async def incidents(
        request: Request,
        principal: Viewer,
        repo: Repo,
        agency: str | None = None,
        endpoint: str | None = None,
        start: StartQ = None,
        end: EndQ = None,
    ) -> IncidentsOut:
        """Incidents overlapping the period, newest last, with MTTA and MTTR."""
        query = _query(request, start, end)
        report = await compute_sla(
            repo, SlaQuery(query.period, query.now, _scope(principal, agency))
        )
        found = [i for a in report.agencies for i in a.incidents]
        if endpoint is not None:
            if not any(e.id == endpoint for a in report.agencies for e in a.endpoints):
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no endpoint '{endpoint}'")
            found = [i for i in found if i.endpoint == endpoint]
        found.sort(key=lambda i: (i.start, i.endpoint))
        mtta, mttr = mtta_mttr(found, report.start, report.end)
        return IncidentsOut(
            start=report.start, end=report.end, timezone=report.timezone,
            source=report.incident_source, mtta_seconds=mtta, mttr_seconds=mttr,
            incidents=[IncidentOut.of(i) for i in found],
        )  # fmt: skip


def _scorecard_route(app: FastAPI) -> None:
    @app.get("/api/v1/scorecard", response_model=ScorecardOut, tags=["sla"])
    async def scorecard(
        request: Request,
        principal: Viewer,
        repo: Repo,
        kind: Literal["platform", "ministry", "province"] | None = None,
        start: StartQ = None,
        end: EndQ = None,
    ) -> ScorecardOut:
        """Agencies ranked within their kind by availability and KPI attainment."""
        ctx: AppContext = request.app.state.ctx
        query = _query(request, start, end)
        card = await build_scorecard(repo, query, ctx.config.series, kind)
        rows = [r for r in card.rows if principal.agency in (None, r.agency.id)]
        return ScorecardOut(
            start=card.report.start, end=card.report.end, timezone=card.report.timezone,
            agencies=[ScoreOut.of(r) for r in rows],
        )  # fmt: skip
