"""Alerts: what fired when, how fast people acknowledged, what the channels delivered."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b

from monitor_center.dashboards.base import Panels, assemble, new_dashboard
from monitor_center.dashboards.panels import (
    stat_panel,
    table_panel,
    timeseries_panel,
    unit_override,
)

UID = "mc-alerts"

SUMMARY = """
SELECT count(*) FILTER (WHERE $__timeFilter(a.fired_at)) AS fired,
       count(*) FILTER (WHERE a.state = 'firing') AS firing_now,
       count(*) FILTER (WHERE a.state = 'firing' AND a.acknowledged_at IS NULL
                          AND NOT a.inhibited AND NOT a.silenced) AS unacknowledged
FROM alerts a
WHERE a.fired_at IS NOT NULL
"""

FIRED_OVER_TIME = """
SELECT $__timeGroupAlias(a.fired_at, $__interval), a.severity AS metric, count(*) AS fired
FROM alerts a
WHERE a.fired_at IS NOT NULL AND $__timeFilter(a.fired_at)
GROUP BY 1, 2
ORDER BY 1, 2
"""

# Time to acknowledge: from firing to the first acknowledgement, per time group.
ACK_OVER_TIME = """
SELECT $__timeGroupAlias(a.fired_at, $__interval),
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM a.acknowledged_at - a.fired_at)) AS median,
       percentile_cont(0.9) WITHIN GROUP (
           ORDER BY extract(epoch FROM a.acknowledged_at - a.fired_at)) AS p90
FROM alerts a
WHERE a.acknowledged_at IS NOT NULL AND $__timeFilter(a.fired_at)
GROUP BY 1
ORDER BY 1
"""

ACK_BY_RULE = """
SELECT a.rule_id AS rule, a.severity,
       count(*) AS fired,
       count(a.acknowledged_at) AS acknowledged,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM a.acknowledged_at - a.fired_at)) AS median_ack_seconds,
       percentile_cont(0.9) WITHIN GROUP (
           ORDER BY extract(epoch FROM a.acknowledged_at - a.fired_at)) AS p90_ack_seconds,
       count(*) FILTER (WHERE a.escalated) AS escalated
FROM alerts a
WHERE a.fired_at IS NOT NULL AND $__timeFilter(a.fired_at)
GROUP BY a.rule_id, a.severity
ORDER BY fired DESC, rule
"""

HISTORY = """
SELECT a.started_at AS "time", a.rule_id AS rule, a.subject,
       coalesce(ag.name, a.agency_id) AS agency, a.severity, a.state,
       a.fired_at, a.acknowledged_by, a.acknowledged_at, a.resolved_at,
       extract(epoch FROM coalesce(a.resolved_at, now()) - coalesce(a.fired_at, a.started_at))
           AS duration_seconds,
       a.inhibited, a.silenced, a.in_maintenance, a.summary
FROM alerts a
LEFT JOIN agencies ag ON ag.id = a.agency_id
WHERE $__timeFilter(a.started_at)
ORDER BY a.started_at DESC
LIMIT 500
"""

NOTIFICATIONS = """
SELECT n.channel_id AS channel,
       count(*) FILTER (WHERE n.state = 'sent') AS sent,
       count(*) FILTER (WHERE n.state = 'pending') AS pending,
       count(*) FILTER (WHERE n.state = 'failed') AS failed,
       count(*) FILTER (WHERE n.state = 'cancelled') AS cancelled,
       avg(extract(epoch FROM n.sent_at - n.created_at)) AS avg_delivery_seconds
FROM notifications n
WHERE $__timeFilter(n.created_at)
GROUP BY n.channel_id
ORDER BY n.channel_id
"""


def _trend_panels() -> Panels:
    """Counts, alerts fired over time and how fast they were acknowledged."""
    return [
        stat_panel(
            "Alerts",
            SUMMARY,
            w=8,
            h=8,
            at=(0, 0),
            description="Fired in the range; firing now; firing, not acknowledged,"
            " neither inhibited nor silenced.",
        ),
        timeseries_panel(
            "Alerts fired by severity",
            FIRED_OVER_TIME,
            w=16,
            at=(8, 0),
            bars=True,
            description="Count of alerts that fired per interval.",
        ),
        timeseries_panel(
            "Time to acknowledge",
            ACK_OVER_TIME,
            w=12,
            at=(0, 8),
            unit="s",
            description="Median and p90 from firing to acknowledgement, by firing time.",
        ),
    ]


def _table_panels() -> Panels:
    """Per rule, per alert and per channel."""
    return [
        table_panel("Time to acknowledge per rule", ACK_BY_RULE, w=12, h=8, at=(12, 8)).overrides(
            [unit_override("median_ack_seconds", "s"), unit_override("p90_ack_seconds", "s")]
        ),
        table_panel(
            "Alert history",
            HISTORY,
            w=24,
            h=10,
            at=(0, 16),
            description="Every alert that started in the range, newest first.",
        ).overrides([unit_override("duration_seconds", "s")]),
        table_panel(
            "Notifications per channel",
            NOTIFICATIONS,
            w=24,
            h=6,
            at=(0, 26),
            description="Outbox rows created in the range, by state.",
        ).overrides([unit_override("avg_delivery_seconds", "s")]),
    ]


def build() -> dashboard_b.Dashboard:
    """The on-call view of alerting over the last week by default."""
    board = new_dashboard(
        UID,
        "Alerts",
        "Alert history, time to acknowledge per rule and notification delivery.",
        time_from="now-7d",
    )
    return assemble(board, [*_trend_panels(), *_table_panels()])
