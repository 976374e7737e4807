"""Agency detail: one agency's endpoints, availability, latency, series and incidents."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b

from monitor_center.dashboards import series
from monitor_center.dashboards.base import (
    Panels,
    assemble,
    new_dashboard,
    query_variable,
    with_latest,
)
from monitor_center.dashboards.panels import (
    AVAILABILITY_THRESHOLDS,
    table_panel,
    timeseries_panel,
    unit_override,
)

UID = "mc-agency-detail"

AGENCIES = """
SELECT id AS __value, name AS __text
FROM agencies
WHERE active
ORDER BY kind, name
"""

ENDPOINTS_NOW = with_latest(
    """
    SELECT endpoint, url, state, total_ms AS latency_ms, checked_at
    FROM latest
    WHERE agency_id = '$agency'
    ORDER BY endpoint
    """
)

# Hourly rollups: cheap over months, kept after raw results are dropped. Time not covered
# by results (the center down, a new endpoint) is unknown, so it is left out of both the
# numerator and the denominator and shown as coverage instead.
AVAILABILITY_TABLE = """
SELECT e.id AS endpoint,
       100 * (sum(r.covered_seconds) - sum(r.downtime_seconds))
           / nullif(sum(r.covered_seconds), 0) AS availability_percent,
       sum(r.total) AS probes,
       sum(r.total - r.ok) AS failed,
       sum(r.downtime_seconds) AS downtime_seconds,
       100 * sum(r.covered_seconds)
           / extract(epoch FROM $__timeTo()::timestamptz - $__timeFrom()::timestamptz)
           AS coverage_percent
FROM endpoints e
LEFT JOIN probe_rollups r
       ON r.endpoint_id = e.id AND r.resolution = 'hour' AND $__timeFilter(r.bucket)
WHERE e.agency_id = '$agency'
GROUP BY e.id
ORDER BY availability_percent NULLS FIRST, e.id
"""

AVAILABILITY_SERIES = """
SELECT r.bucket AS "time", r.endpoint_id AS metric,
       100 * (r.covered_seconds - r.downtime_seconds) / nullif(r.covered_seconds, 0)
           AS availability
FROM probe_rollups r
JOIN endpoints e ON e.id = r.endpoint_id
WHERE e.agency_id = '$agency' AND r.resolution = 'hour' AND $__timeFilter(r.bucket)
ORDER BY 1, 2
"""

# Raw results, so the last minutes show too; Grafana's $__timeGroup becomes time_bucket()
# when the data source has TimescaleDB on (as provisioned), else an epoch floor.
LATENCY_PERCENTILES = """
SELECT $__timeGroupAlias(p.time, $__interval),
       percentile_cont(0.50) WITHIN GROUP (ORDER BY p.total_ms) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY p.total_ms) AS p95,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY p.total_ms) AS p99
FROM probe_results p
JOIN endpoints e ON e.id = p.endpoint_id
WHERE e.agency_id = '$agency' AND $__timeFilter(p.time)
GROUP BY 1
ORDER BY 1
"""

LATENCY_P95_HOURLY = """
SELECT r.bucket AS "time", r.endpoint_id AS metric, r.latency_p95_ms AS p95
FROM probe_rollups r
JOIN endpoints e ON e.id = r.endpoint_id
WHERE e.agency_id = '$agency' AND r.resolution = 'hour' AND $__timeFilter(r.bucket)
ORDER BY 1, 2
"""

INCIDENTS = """
SELECT a.started_at AS "time", a.rule_id AS rule, a.subject, a.severity, a.state,
       a.fired_at, a.acknowledged_at, a.resolved_at,
       extract(epoch FROM coalesce(a.resolved_at, now()) - a.fired_at) AS duration_seconds,
       extract(epoch FROM a.acknowledged_at - a.fired_at) AS time_to_ack_seconds,
       a.summary
FROM alerts a
WHERE a.agency_id = '$agency' AND a.fired_at IS NOT NULL
  AND a.fired_at <= $__timeTo() AND coalesce(a.resolved_at, now()) >= $__timeFrom()
ORDER BY a.fired_at DESC
"""


def _now_panels() -> Panels:
    """The endpoints' latest results and their availability over the range."""
    availability = table_panel(
        "Endpoint availability",
        AVAILABILITY_TABLE,
        w=14,
        h=8,
        at=(10, 0),
        description="From hourly rollups (complete hours). Unknown time (no results) is"
        " excluded and shown as coverage.",
    ).thresholds(AVAILABILITY_THRESHOLDS)
    units = [("availability_percent", "percent"), ("coverage_percent", "percent")]
    units.append(("downtime_seconds", "s"))
    return [
        table_panel(
            "Endpoints now",
            ENDPOINTS_NOW,
            w=10,
            h=8,
            at=(0, 0),
            description="Latest result per endpoint (unknown: none within two intervals).",
        ).overrides([unit_override("latency_ms", "ms")]),
        availability.overrides([unit_override(name, unit) for name, unit in units]),
    ]


def _trend_panels() -> Panels:
    """Availability and latency over time, from rollups and from raw results."""
    return [
        timeseries_panel(
            "Availability per hour",
            AVAILABILITY_SERIES,
            w=12,
            at=(0, 8),
            unit="percent",
            description="Hourly rollups: share of covered time the endpoint was up.",
        ).max(100),
        timeseries_panel(
            "Latency percentiles",
            LATENCY_PERCENTILES,
            w=12,
            at=(12, 8),
            unit="ms",
            description="p50/p95/p99 of every probe of the agency (raw results).",
        ),
        timeseries_panel(
            "p95 latency per endpoint (hourly)",
            LATENCY_P95_HOURLY,
            w=12,
            at=(0, 16),
            unit="ms",
            description="From hourly rollups, so it reaches back past raw retention.",
        ),
    ]


def _activity_panels() -> Panels:
    """The picked series and the agency's incidents."""
    return [
        timeseries_panel(
            "Series",
            series.AGENCY_SERIES,
            w=12,
            at=(12, 16),
            description=series.AGENCY_SERIES_DESCRIPTION,
        ),
        table_panel(
            "Incidents",
            INCIDENTS,
            w=24,
            h=8,
            at=(0, 24),
            description="Alerts of this agency that fired and overlap the time range.",
        ).overrides(
            [unit_override("duration_seconds", "s"), unit_override("time_to_ack_seconds", "s")]
        ),
    ]


def build() -> dashboard_b.Dashboard:
    """Everything about the agency picked in the ``agency`` variable."""
    board = (
        new_dashboard(
            UID,
            "Agency detail",
            "One agency: its endpoints now, availability, latency, series and incidents.",
            time_from="now-24h",
        )
        .with_variable(query_variable("agency", "Agency", AGENCIES))
        .with_variable(series.series_variable("series", "Series", multi=True))
    )
    return assemble(board, [*_now_panels(), *_trend_panels(), *_activity_panels()])
