"""National overview: the province map, the shared platforms, national counters, alerts."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b

from monitor_center.dashboards import series
from monitor_center.dashboards.base import (
    Panels,
    agency_state_expr,
    assemble,
    new_dashboard,
    with_latest,
)
from monitor_center.dashboards.panels import (
    province_map_panel,
    stat_panel,
    state_panel,
    table_panel,
    timeseries_panel,
)
from monitor_center.dashboards.series import series_variable

UID = "mc-national-overview"


def agency_states_sql(kind: str, *, position: bool) -> str:
    """Each active agency of ``kind`` with its state code, and its position if asked."""
    where_position = " AND a.lat IS NOT NULL AND a.lon IS NOT NULL" if position else ""
    columns = "a.lat AS latitude, a.lon AS longitude, " if position else ""
    return with_latest(
        f"""
        SELECT a.name AS agency, {columns}{agency_state_expr()} AS state,
               count(*) FILTER (WHERE l.state = 'up') AS endpoints_up,
               count(l.endpoint) AS endpoints
        FROM agencies a
        LEFT JOIN latest l ON l.agency_id = a.id
        WHERE a.active AND a.kind = '{kind}'{where_position}
        GROUP BY a.id, a.name, a.lat, a.lon
        ORDER BY a.name
        """
    )


ENDPOINTS_UP = with_latest(
    """
    SELECT count(*) FILTER (WHERE state = 'up') AS up,
           count(*) FILTER (WHERE state = 'down') AS down,
           count(*) FILTER (WHERE state = 'unknown') AS unknown,
           count(*) AS endpoints
    FROM latest
    """
)

FIRING_ALERTS = """
SELECT a.fired_at AS "time", a.severity, a.rule_id AS rule, a.subject,
       coalesce(ag.name, a.agency_id) AS agency, a.summary, a.acknowledged_by,
       a.inhibited, a.silenced
FROM alerts a
LEFT JOIN agencies ag ON ag.id = a.agency_id
WHERE a.state = 'firing'
ORDER BY a.fired_at DESC
LIMIT 200
"""


def _state_panels() -> Panels:
    """The platforms' tiles across the top, the province map below on the left."""
    return [
        state_panel(
            "Shared platforms",
            agency_states_sql("platform", position=False),
            w=24,
            h=5,
            at=(0, 0),
            description="NGSP, the public service portal, e-document exchange and the"
            " other national platforms.",
        ),
        province_map_panel(
            "Provinces",
            agency_states_sql("province", position=True),
            w=10,
            h=18,
            at=(0, 5),
            description="Green: all endpoints up; amber: some down; red: all down;"
            " grey: no fresh result.",
        ),
    ]


def _counter_panels() -> Panels:
    """National counters beside the map, the firing alerts underneath."""
    return [
        stat_panel(
            "Endpoints up",
            ENDPOINTS_UP,
            w=14,
            h=4,
            at=(10, 5),
            description="Active endpoints by their latest result (unknown: none"
            " within two intervals).",
        ),
        timeseries_panel(
            "NGSP transactions per minute",
            series.NGSP_RATE,
            w=14,
            h=14,
            at=(10, 9),
            unit="short",
            description=series.NGSP_RATE_DESCRIPTION,
        ),
        table_panel(
            "Firing alerts",
            FIRING_ALERTS,
            w=24,
            h=10,
            at=(0, 23),
            description="Alerts firing now, newest first.",
        ),
    ]


def build() -> dashboard_b.Dashboard:
    """The operators' national picture, refreshed every 30 s."""
    board = new_dashboard(
        UID,
        "National overview",
        "Every province on the map coloured by state, the shared platforms, endpoints up,"
        " NGSP transactions per minute and the alerts firing now.",
        refresh="30s",
    ).with_variable(series_variable("ngsp_series", "NGSP transactions series"))
    return assemble(board, [*_state_panels(), *_counter_panels()])
