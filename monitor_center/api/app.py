"""The FastAPI application, built from an explicit context (no globals)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import AsyncConnectionPool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor_center.alerting.runner import Alerting
from monitor_center.api.alert_routes import add_alert_routes
from monitor_center.api.auth import Principal, TokenAuth, bearer_token, require
from monitor_center.api.live_route import add_live_route
from monitor_center.api.schemas import AgencyOut, EndpointOut, HealthOut, ReloadOut, StateName
from monitor_center.api.series_routes import add_series_routes
from monitor_center.api.sla_routes import add_sla_routes
from monitor_center.api.ws_direct import KeepServerSend
from monitor_center.config import Config, ConfigError
from monitor_center.live import Hub
from monitor_center.metrics import Metrics
from monitor_center.state import EndpointStates, EndpointView
from monitor_center.wall import add_wall_routes

log = logging.getLogger(__name__)

_WORST = {"down": 2, "unknown": 1, "up": 0}


@dataclass
class AppContext:
    """Everything the routes read; the service builds it and swaps ``config`` on reload."""

    config: Config
    states: EndpointStates
    metrics: Metrics
    auth: TokenAuth
    database_ok: Callable[[], Awaitable[bool]]
    write_queue: Callable[[], int]
    reload: Callable[[], Awaitable[None]] | None = None
    hub: Hub | None = None
    """The live feed behind /ws/live; without one the websocket refuses every client."""
    alerting: Alerting | None = None
    """Set once the service has started alerting; the alert routes answer 503 before."""
    pool: AsyncConnectionPool | None = None
    """The database pool, once the service has connected (SLA and reports read it)."""


Viewer = Annotated[Principal, Depends(require("viewer"))]
Admin = Annotated[Principal, Depends(require("admin"))]


def create_app(ctx: AppContext) -> FastAPI:
    """Build the app; every /api/v1 route declares the role it needs."""
    app = FastAPI(
        title="Monitor Center",
        version="0.1.0",
        description="National e-Government Monitoring Center API",
        docs_url="/docs",
    )
    app.state.ctx = ctx
    app.add_middleware(RequestHygiene)
    app.add_middleware(KeepServerSend)  # added last: outermost, sees the server's send
    _add_infra_routes(app, ctx)
    _add_endpoint_routes(app, ctx)
    _add_admin_routes(app, ctx)
    add_live_route(app, ctx)
    add_alert_routes(app)
    add_series_routes(app)
    add_sla_routes(app)
    add_wall_routes(app)
    return app


_HTML_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'none'",
}


class RequestHygiene:
    """Two guards around every HTTP request (websockets pass untouched).

    - A query string carrying NUL (``%00``) is refused with 422: PostgreSQL text cannot
      hold it, and the filters end up in SQL (a 500 otherwise).
    - An HTML response without a Content-Security-Policy of its own (FastAPI's ``/docs``
      and ``/redoc``, which load their scripts from a CDN and inline) gets the headers
      that cannot break it: nosniff, no framing, no referrer, no plugins, no ``<base>``.
      The wall sends its full policy itself (``monitor_center/wall/headers.py``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b""):
            refused = JSONResponse({"detail": "the query must not contain NUL (%00)"}, 422)
            await refused(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                if html and "content-security-policy" not in headers:
                    for name, value in _HTML_HEADERS.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _add_admin_routes(app: FastAPI, ctx: AppContext) -> None:
    @app.post(
        "/api/v1/config/reload",
        response_model=ReloadOut,
        tags=["admin"],
        responses={422: {"model": ReloadOut, "description": "invalid config; old one kept"}},
    )
    async def reload_config(principal: Admin) -> JSONResponse:
        """Re-read the config file; an invalid one is refused and the old one keeps running."""
        if ctx.reload is None:
            raise HTTPException(status.HTTP_409_CONFLICT, "this center has no config file")
        try:
            await ctx.reload()
        except ConfigError as exc:
            body = ReloadOut(reloaded=False, errors=[str(i) for i in exc.issues])
            return JSONResponse(body.model_dump(), status_code=422)
        log.info("config reloaded by token '%s'", principal.name)
        out = ReloadOut(reloaded=True, endpoints=len(ctx.config.endpoints), errors=[])
        return JSONResponse(out.model_dump())


def _add_infra_routes(app: FastAPI, ctx: AppContext) -> None:
    @app.get("/healthz", response_model=HealthOut, tags=["infra"])
    async def healthz() -> HealthOut:
        db_ok = await ctx.database_ok()
        return HealthOut(
            status="ok" if db_ok else "degraded",
            database="ok" if db_ok else "unreachable",
            endpoints=len(ctx.config.endpoints),
            write_queue=ctx.write_queue(),
        )

    @app.get("/metrics", tags=["infra"], response_class=Response)
    async def metrics(request: Request) -> Response:
        """Prometheus exposition. With ``center.metrics_token`` set, the caller shows that
        token (a scraper) or an operator or admin API token of the whole center (a person
        or tool already trusted with its operations); 401 without a valid token, 403 for a
        viewer or an agency-scoped token (the metrics cover every agency)."""
        expected = ctx.config.center.metrics_token
        if expected is not None:
            _check_metrics_caller(request, expected.get_secret_value(), ctx.auth)
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _check_metrics_caller(request: Request, metrics_token: str, api: TokenAuth) -> None:
    token = bearer_token(request)
    scraper = TokenAuth([("metrics", metrics_token, "admin", None)])
    principal = None if token is None else scraper.authenticate(token) or api.authenticate(token)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal.agency is not None or principal.role == "viewer":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="/metrics needs center.metrics_token or an operator or admin token not"
            f" scoped to an agency; token '{principal.name}' is not one",
        )


def _add_endpoint_routes(app: FastAPI, ctx: AppContext) -> None:
    def out(view: EndpointView) -> EndpointOut:
        endpoint = ctx.config.endpoint(view.id)
        return EndpointOut.of(view, endpoint.url if endpoint else "")

    @app.get("/api/v1/endpoints", response_model=list[EndpointOut], tags=["endpoints"])
    async def list_endpoints(
        _: Viewer,
        agency: Annotated[str | None, Query(description="only this agency's endpoints")] = None,
        state: Annotated[
            StateName | None, Query(description="only endpoints in this state")
        ] = None,
    ) -> list[EndpointOut]:
        views = ctx.states.views()
        return [
            out(v)
            for v in views
            if (agency is None or v.agency == agency) and (state is None or v.state == state)
        ]

    @app.get("/api/v1/endpoints/{endpoint_id}", response_model=EndpointOut, tags=["endpoints"])
    async def get_endpoint(endpoint_id: str, _: Viewer) -> EndpointOut:
        view = ctx.states.view(endpoint_id)
        if view is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no endpoint '{endpoint_id}'")
        return out(view)

    @app.get("/api/v1/agencies", response_model=list[AgencyOut], tags=["agencies"])
    async def list_agencies(_: Viewer) -> list[AgencyOut]:
        by_agency: dict[str, list[EndpointView]] = {}
        for view in ctx.states.views():
            by_agency.setdefault(view.agency, []).append(view)
        result = []
        for agency in ctx.config.agencies:
            views = by_agency.get(agency.id, [])
            worst: StateName = max(
                (v.state for v in views), key=_WORST.__getitem__, default="unknown"
            )
            result.append(
                AgencyOut(
                    id=agency.id,
                    name=agency.name,
                    kind=agency.kind,
                    depends_on=list(agency.depends_on),
                    state=worst,
                    endpoints_up=sum(v.state == "up" for v in views),
                    endpoints_total=len(views),
                    lat=agency.lat,
                    lon=agency.lon,
                )
            )
        return result
