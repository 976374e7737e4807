"""Response models: the documented shape of the API (see the README's API section)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.redaction import redact_credentials
from monitor_center.state import EndpointView

StateName = Literal["up", "down", "unknown"]


class LatencyOut(BaseModel):
    total_ms: float
    connect_ms: float | None = None
    tls_ms: float | None = None
    first_byte_ms: float | None = None


class EndpointOut(BaseModel):
    id: str
    agency: str
    url: str = Field(
        description="the probed URL; a password in it, or in a query parameter"
        " named like a secret, shows as ***"
    )
    state: StateName
    interval_seconds: float
    last_checked: datetime | None = Field(description="start of the latest probe")
    latency_ms: float | None = Field(description="total latency of the latest probe")
    latency: LatencyOut | None = None
    status: int | None = Field(description="HTTP status of the latest probe")
    reason: str | None = Field(description="why the latest probe failed")
    cert_expiry_days: float | None = None

    @classmethod
    def of(cls, view: EndpointView, url: str) -> EndpointOut:
        """The API's view of an endpoint. Credentials in its URL are hidden for every role
        (PRODUCT.md: secrets never appear in API responses), in a stored reason too."""
        last = view.last_result
        latency = None
        if last is not None:
            lat = last.latency
            latency = LatencyOut(
                total_ms=lat.total * 1000,
                connect_ms=None if lat.connect is None else lat.connect * 1000,
                tls_ms=None if lat.tls is None else lat.tls * 1000,
                first_byte_ms=None if lat.first_byte is None else lat.first_byte * 1000,
            )
        return cls(
            id=view.id,
            agency=view.agency,
            url=redact_credentials(url),
            state=view.state,
            interval_seconds=view.interval,
            last_checked=view.last_checked,
            latency_ms=latency.total_ms if latency else None,
            latency=latency,
            status=last.status if last else None,
            reason=redact_credentials(last.reason) if last and last.reason else None,
            cert_expiry_days=last.cert_expiry_days if last else None,
        )


class AgencyOut(BaseModel):
    id: str
    name: str
    kind: Literal["platform", "ministry", "province"]
    depends_on: list[str]
    state: StateName = Field(description="worst state of its endpoints (down > unknown > up)")
    endpoints_up: int
    endpoints_total: int
    lat: float | None = None
    lon: float | None = None


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    endpoints: int
    write_queue: int


class ReloadOut(BaseModel):
    reloaded: bool
    endpoints: int | None = Field(default=None, description="endpoints after the reload")
    errors: list[str] = Field(description="file:line: key.path: problem, when refused")
