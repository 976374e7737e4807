"""The simulated endpoints of a fleet and everything needed to answer each, prepared once.

Everything a request needs is rendered at construction, so the request path is a dict
lookup, an optional sleep and a write.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor_center.demo.agencies import AgencyInfo
from monitor_center.demo.latency import EndpointLatency
from monitor_center.demo.pages import (
    HTML_TYPE,
    JSON_TYPE,
    health_json,
    maintenance_page,
    portal_marker,
    portal_page,
)


@dataclass(frozen=True, slots=True)
class SimEndpoint:
    """One endpoint the fleet serves and what a healthy answer looks like.

    ``kind`` is ``portal`` (HTML; check ``body_contains``) or ``api`` (JSON; check that
    ``json_path`` equals ``equals``). Enough to generate a probe config from.
    """

    id: str
    agency_id: str
    url: str
    kind: str
    json_path: str | None = None
    equals: str | None = None
    body_contains: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """Everything needed to answer one endpoint, prepared once."""

    endpoint_id: str
    agency_id: str
    kind: str
    path: str
    content_type: str
    healthy: bytes
    wrong: bytes
    latency: EndpointLatency
    body_contains: str | None = None
    json_path: str | None = None
    equals: str | None = None


def build_routes(agencies: list[AgencyInfo], seed: int, latency_scale: float) -> dict[str, Route]:
    """Routes keyed by endpoint id, in agency order (portal first, then API)."""
    routes: dict[str, Route] = {}
    maintenance = maintenance_page()
    for agency in agencies:
        if f"{agency.id}-portal" in routes:
            raise ValueError(f"duplicate agency id {agency.id!r}")
        portal_id = f"{agency.id}-portal"
        routes[portal_id] = Route(
            endpoint_id=portal_id,
            agency_id=agency.id,
            kind="portal",
            path=f"/a/{agency.id}/",
            content_type=HTML_TYPE,
            healthy=portal_page(agency),
            wrong=maintenance,
            latency=EndpointLatency(seed, portal_id, agency.kind, latency_scale),
            body_contains=portal_marker(agency),
        )
        if agency.kind != "platform":
            continue
        api_id = f"{agency.id}-api"
        routes[api_id] = Route(
            endpoint_id=api_id,
            agency_id=agency.id,
            kind="api",
            path=f"/a/{agency.id}/api/health",
            content_type=JSON_TYPE,
            healthy=health_json(agency, healthy=True),
            wrong=health_json(agency, healthy=False),
            latency=EndpointLatency(seed, api_id, agency.kind, latency_scale),
            json_path="$.status",
            equals="ok",
        )
    return routes
