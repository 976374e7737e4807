"""``/api/v1/alerts``, ``/silences``, ``/maintenance`` and ``/notifications``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request, status

from alerts.engine import UnknownAlert
from monitor_center.alerting.runner import Alerting
from monitor_center.api.alert_schemas import (
    AckIn,
    AlertOut,
    AlertStateName,
    MaintenanceIn,
    MaintenanceOut,
    NotificationOut,
    SilenceIn,
    SilenceOut,
)
from monitor_center.api.auth import Principal, require
from monitor_center.db.repositories.alerts import AlertFilter
from monitor_center.db.repositories.notifications import NotificationFilter

if TYPE_CHECKING:
    from monitor_center.alerting.runner import Alerting
    from monitor_center.api.app import AppContext

Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]


def _alerting(request: Request) -> Alerting:
    ctx: AppContext = request.app.state.ctx
    if ctx.alerting is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "alerting is not running")
    return ctx.alerting


AlertingDep = Annotated[Alerting, Depends(_alerting)]


def _visible(principal: Principal, agency: str | None) -> bool:
    return principal.agency is None or principal.agency == agency


def add_alert_routes(app: FastAPI) -> None:
    """Register the alerting routes; each declares the role it needs."""
    _alert_routes(app)
    _silence_routes(app)
    _maintenance_routes(app)

    @app.get("/api/v1/notifications", response_model=list[NotificationOut], tags=["alerts"])
    async def list_notifications(
        principal: Viewer,
        alerting: AlertingDep,
        alert_id: int | None = None,
        state: Annotated[str | None, Query(pattern="^(pending|sent|failed|cancelled)$")] = None,
        channel: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[NotificationOut]:
        """The outbox: every notification with each delivery attempt."""
        rows = await alerting.outbox.find(
            NotificationFilter(alert_id, state, channel, principal.agency, limit)
        )
        return [NotificationOut.model_validate(r) for r in rows]


def _alert_routes(app: FastAPI) -> None:
    @app.get("/api/v1/alerts", response_model=list[AlertOut], tags=["alerts"])
    async def list_alerts(
        principal: Viewer,
        alerting: AlertingDep,
        state: AlertStateName | None = None,
        agency: str | None = None,
        rule: str | None = None,
        severity: Annotated[str | None, Query(pattern="^(critical|warning|info)$")] = None,
        since: Annotated[
            datetime | None, Query(description="open, or ended at or after this time")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[AlertOut]:
        """Alerts newest first (open ones come from memory, so they are current)."""
        scope = None if principal.agency is None else [principal.agency]
        found = await alerting.alerts.find(
            AlertFilter(state, agency, rule, severity, since, limit), scope
        )
        live = {a.id: a for a in alerting.engine.open_alerts()}
        return [AlertOut.of(live.get(a.id, a)) for a in found]

    @app.get("/api/v1/alerts/{alert_id}", response_model=AlertOut, tags=["alerts"])
    async def get_alert(alert_id: int, principal: Viewer, alerting: AlertingDep) -> AlertOut:
        """One alert with its full event history."""
        alert = alerting.engine.get(alert_id) or await alerting.alerts.get(alert_id)
        if alert is None or not _visible(principal, alert.agency):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
        return AlertOut.of(alert, await alerting.alerts.events(alert_id))

    @app.post("/api/v1/alerts/{alert_id}/ack", response_model=AlertOut, tags=["alerts"])
    async def acknowledge(
        alert_id: int, principal: Operator, alerting: AlertingDep, body: AckIn | None = None
    ) -> AlertOut:
        """Acknowledge an open alert: stops repeats and escalation (operator)."""
        alert = alerting.engine.get(alert_id)
        if alert is not None and not _visible(principal, alert.agency):
            alert = None
        if alert is None:
            stored = await alerting.alerts.get(alert_id)
            if stored is None or not _visible(principal, stored.agency):
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"alert {alert_id} is {stored.state}; nothing to acknowledge",
            )
        try:
            alert = await alerting.acknowledge(alert_id, principal.name, (body or AckIn()).comment)
        except UnknownAlert:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"alert {alert_id} just resolved"
            ) from None
        return AlertOut.of(alert)


def _silence_routes(app: FastAPI) -> None:
    @app.get("/api/v1/silences", response_model=list[SilenceOut], tags=["alerts"])
    async def list_silences(
        _: Viewer, alerting: AlertingDep, active: bool = False
    ) -> list[SilenceOut]:
        """Every silence newest first; ``active=true`` keeps those not yet ended."""
        now = alerting.clock.now()
        rows = await alerting.silences.silences(active_at=now if active else None)
        return [SilenceOut.of(r, now) for r in rows]

    @app.post(
        "/api/v1/silences",
        response_model=SilenceOut,
        status_code=status.HTTP_201_CREATED,
        tags=["alerts"],
    )
    async def create_silence(
        body: SilenceIn, principal: Operator, alerting: AlertingDep
    ) -> SilenceOut:
        """Hold back notifications of matching alerts until ``ends_at`` (operator)."""
        now = alerting.clock.now()
        starts = body.starts_at or now
        if body.ends_at is not None:
            ends = body.ends_at
        else:
            assert body.duration is not None  # the model requires one of the two
            ends = starts + body.duration
        if ends <= starts or ends <= now:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "the silence would end before it starts or in the past",
            )
        row = await alerting.silences.create_silence(
            body.matchers, starts, ends, principal.name, body.comment, now
        )
        await alerting.refresh_policy()
        return SilenceOut.of(row, now)

    @app.delete("/api/v1/silences/{silence_id}", response_model=SilenceOut, tags=["alerts"])
    async def expire_silence(silence_id: int, _: Operator, alerting: AlertingDep) -> SilenceOut:
        """End a silence now; held-back alerts still firing are notified (operator)."""
        now = alerting.clock.now()
        row = await alerting.silences.expire_silence(silence_id, now)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no silence {silence_id}")
        await alerting.refresh_policy()
        return SilenceOut.of(row, now)


def _maintenance_routes(app: FastAPI) -> None:
    @app.get("/api/v1/maintenance", response_model=list[MaintenanceOut], tags=["alerts"])
    async def list_maintenance(_: Viewer, alerting: AlertingDep) -> list[MaintenanceOut]:
        """Every window, from the config file and from this API."""
        return [MaintenanceOut.of(r) for r in await alerting.silences.maintenance()]

    @app.post(
        "/api/v1/maintenance",
        response_model=MaintenanceOut,
        status_code=status.HTTP_201_CREATED,
        tags=["alerts"],
    )
    async def create_maintenance(
        body: MaintenanceIn, principal: Admin, alerting: AlertingDep
    ) -> MaintenanceOut:
        """Plan a window for an agency or an endpoint (admin); SLA reports exclude it."""
        config = alerting.config
        if body.agency is not None and config.agency(body.agency) is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown agency '{body.agency}'"
            )
        if body.endpoint is not None and config.endpoint(body.endpoint) is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown endpoint '{body.endpoint}'"
            )
        row = await alerting.silences.create_maintenance(
            {
                "name": body.name,
                "agency_id": body.agency,
                "endpoint_id": body.endpoint,
                "starts_at": body.starts_at,
                "ends_at": body.ends_at,
                "recurring": body.recurring,
                "author": principal.name,
                "comment": body.comment,
            },
            alerting.clock.now(),
        )
        await alerting.refresh_policy()
        return MaintenanceOut.of(row)

    @app.delete("/api/v1/maintenance/{window_id}", status_code=204, tags=["alerts"])
    async def delete_maintenance(window_id: int, _: Admin, alerting: AlertingDep) -> None:
        """Remove a window created through the API (the config's are edited there)."""
        if not await alerting.silences.delete_maintenance(window_id):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no API-created maintenance window {window_id}"
            )
        await alerting.refresh_policy()
