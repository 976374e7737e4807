"""Rows and requests exchanged with the SLA repository (times as epoch seconds)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class CatalogAgency(NamedTuple):
    id: str
    name: str
    kind: str


class CatalogEndpoint(NamedTuple):
    id: str
    agency_id: str
    interval_seconds: float
    active: bool


class WindowRow(NamedTuple):
    agency_id: str | None
    endpoint_id: str | None
    starts_at: float
    ends_at: float
    recurring: str | None


Interval = tuple[float, float]


class Stretch(NamedTuple):
    """``[lo, hi)`` of one endpoint."""

    endpoint_id: str
    lo: float
    hi: float


class DayRequest(NamedTuple):
    """Day rollups to sum: the whole days in ``[lo, hi)`` of each endpoint except the
    ``excluded`` (endpoint, bucket) pairs."""

    endpoint_ids: list[str]
    excluded: list[tuple[str, float]]
    lo: float
    hi: float
    timezone: str
    per_day: bool
    """One row per day (reports) instead of one per endpoint."""


class DayTotals(NamedTuple):
    endpoint_id: str
    day: float | None
    total: int
    ok: int
    downtime: float
    covered: float
    present: list[float]
    """The buckets found."""
    failing: list[float]
    """The buckets with a failed probe."""


class Totals(NamedTuple):
    """Sums over one stretch (``position`` = its index): hour rollups or raw results."""

    position: int
    total: int
    ok: int
    downtime: float
    covered: float
    hours: int | None = None
    """Hour rollups: bit ``k`` set when the stretch's ``k``-th hour was found."""


class AlertIncidentRow(NamedTuple):
    id: int
    endpoint_id: str
    fired_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class FailedRun(NamedTuple):
    endpoint_id: str
    started: datetime
    ended: datetime | None
    failures: int


class SeriesFigures(NamedTuple):
    series_id: str
    latest: float | None
    increase_day: float | None
    days: int
    increase_hour: float | None
    hours: int
