"""SLA history: monthly availability per agency and endpoint, downtime, incidents, MTTR.

Everything here reads the daily probe rollups (kept for years) and the alert history.
Months are calendar months in the center's time zone (the hidden ``timezone`` constant,
``Asia/Ho_Chi_Minh`` as in the demo config); day buckets already start at local midnight.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.builders import table

from monitor_center.dashboards.base import Panels, assemble, constant_variable, new_dashboard
from monitor_center.dashboards.panels import (
    AVAILABILITY_THRESHOLDS,
    stat_panel,
    table_panel,
    timeseries_panel,
    unit_override,
)

UID = "mc-sla-history"
TIMEZONE = "Asia/Ho_Chi_Minh"

MONTH = "to_char(r.bucket AT TIME ZONE '$timezone', 'YYYY-MM')"

# Availability counts covered time only: time with no results is unknown, never up.
AVAILABILITY = (
    "100 * (sum(r.covered_seconds) - sum(r.downtime_seconds)) / nullif(sum(r.covered_seconds), 0)"
)

AGENCY_MONTHS = f"""
SELECT {MONTH} AS month, ag.name AS agency, ag.kind,
       {AVAILABILITY} AS availability_percent,
       sum(r.downtime_seconds) AS downtime_seconds,
       sum(r.total) AS probes,
       sum(r.total - r.ok) AS failed
FROM probe_rollups r
JOIN endpoints e ON e.id = r.endpoint_id
JOIN agencies ag ON ag.id = e.agency_id
WHERE r.resolution = 'day' AND $__timeFilter(r.bucket)
GROUP BY 1, ag.id, ag.name, ag.kind
ORDER BY 1 DESC, availability_percent, agency
"""

ENDPOINT_MONTHS = f"""
SELECT {MONTH} AS month, e.agency_id AS agency, e.id AS endpoint,
       {AVAILABILITY} AS availability_percent,
       sum(r.downtime_seconds) AS downtime_seconds,
       sum(r.total) AS probes,
       sum(r.total - r.ok) AS failed
FROM probe_rollups r
JOIN endpoints e ON e.id = r.endpoint_id
WHERE r.resolution = 'day' AND $__timeFilter(r.bucket)
GROUP BY 1, e.agency_id, e.id
ORDER BY 1 DESC, availability_percent, endpoint
"""

DAILY_BY_KIND = f"""
SELECT r.bucket AS "time", ag.kind AS metric, {AVAILABILITY} AS availability
FROM probe_rollups r
JOIN endpoints e ON e.id = r.endpoint_id
JOIN agencies ag ON ag.id = e.agency_id
WHERE r.resolution = 'day' AND $__timeFilter(r.bucket)
GROUP BY 1, 2
ORDER BY 1, 2
"""

DOWNTIME_BY_MONTH = """
SELECT date_trunc('month', r.bucket AT TIME ZONE '$timezone') AT TIME ZONE '$timezone'
           AS "time",
       ag.kind AS metric,
       sum(r.downtime_seconds) / 3600 AS downtime_hours
FROM probe_rollups r
JOIN endpoints e ON e.id = r.endpoint_id
JOIN agencies ag ON ag.id = e.agency_id
WHERE r.resolution = 'day' AND $__timeFilter(r.bucket)
GROUP BY 1, 2
ORDER BY 1, 2
"""

# An incident is an alert that fired; MTTR runs from firing to resolution, MTTA from
# firing to the first acknowledgement.
INCIDENTS_BY_AGENCY = """
SELECT coalesce(ag.name, a.agency_id, '(none)') AS agency,
       count(*) AS incidents,
       count(a.resolved_at) AS resolved,
       avg(extract(epoch FROM a.resolved_at - a.fired_at)) AS mttr_seconds,
       avg(extract(epoch FROM a.acknowledged_at - a.fired_at)) AS mtta_seconds,
       max(extract(epoch FROM coalesce(a.resolved_at, now()) - a.fired_at))
           AS longest_seconds
FROM alerts a
LEFT JOIN agencies ag ON ag.id = a.agency_id
WHERE a.fired_at IS NOT NULL AND $__timeFilter(a.fired_at)
GROUP BY 1
ORDER BY incidents DESC, agency
"""

MTTR = """
SELECT count(*) AS incidents,
       avg(extract(epoch FROM a.resolved_at - a.fired_at)) AS mttr,
       avg(extract(epoch FROM a.acknowledged_at - a.fired_at)) AS mtta
FROM alerts a
WHERE a.fired_at IS NOT NULL AND $__timeFilter(a.fired_at)
"""


def _months_table(title: str, sql: str, at: tuple[int, int], description: str) -> table.Panel:
    """A month x agency (or endpoint) table, availability coloured by thresholds."""
    return (
        table_panel(title, sql, w=12, h=10, at=at, description=description)
        .thresholds(AVAILABILITY_THRESHOLDS)
        .overrides(
            [
                unit_override("availability_percent", "percent"),
                unit_override("downtime_seconds", "s"),
            ]
        )
    )


def _availability_panels() -> Panels:
    """Headline figures, daily availability, then the monthly tables."""
    return [
        stat_panel(
            "Incidents, MTTR and MTTA",
            MTTR,
            w=8,
            h=8,
            at=(0, 0),
            unit="s",
            description="Over the time range. MTTR: firing to resolved; MTTA: firing"
            " to acknowledged.",
        ).overrides([unit_override("incidents", "none")]),
        timeseries_panel(
            "Daily availability by agency kind",
            DAILY_BY_KIND,
            w=16,
            h=8,
            at=(8, 0),
            unit="percent",
            description="Daily rollups; covered time only.",
        ).max(100),
        _months_table("Monthly availability per agency", AGENCY_MONTHS, (0, 8), "Worst first."),
        _months_table(
            "Monthly availability per endpoint", ENDPOINT_MONTHS, (12, 8), "Worst first."
        ),
    ]


def _incident_panels() -> Panels:
    """Downtime per month and the incidents behind it."""
    seconds = ["mttr_seconds", "mtta_seconds", "longest_seconds"]
    return [
        timeseries_panel(
            "Downtime per month",
            DOWNTIME_BY_MONTH,
            w=12,
            at=(0, 18),
            unit="h",
            bars=True,
            description="Hours of downtime summed over endpoints, by agency kind.",
        ),
        table_panel(
            "Incidents per agency",
            INCIDENTS_BY_AGENCY,
            w=12,
            h=8,
            at=(12, 18),
            description="Alerts that fired in the range.",
        ).overrides([unit_override(name, "s") for name in seconds]),
    ]


def build() -> dashboard_b.Dashboard:
    """Managers' monthly view, over the last six months by default."""
    board = new_dashboard(
        UID,
        "SLA history",
        "Monthly availability per agency and endpoint from the daily rollups, downtime,"
        " incidents with MTTR and MTTA from the alert history.",
        time_from="now-6M/M",
        refresh="15m",
    ).with_variable(constant_variable("timezone", TIMEZONE))
    return assemble(board, [*_availability_panels(), *_incident_panels()])
