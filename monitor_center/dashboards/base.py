"""What every dashboard shares: the frame (uid, tags, time, refresh) and SQL fragments."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as dm

from monitor_center.dashboards.sql import DATASOURCE, clean

TAG = "monitor-center"

# A dashboard's panels in layout order, as builders.
Panels = list[cogbuilder.Builder[dm.Panel]]

# The newest result of each active endpoint, as the API reports it: a result older than
# two intervals means `unknown` (silence is never health). The one-day bound lets
# TimescaleDB skip old chunks; an endpoint silent for a day is unknown either way.
LATEST = """
latest AS (
    SELECT e.id AS endpoint, e.agency_id, e.url, r.time AS checked_at, r.total_ms,
           CASE WHEN r.time IS NULL
                     OR r.time < now() - make_interval(secs => 2 * e.interval_seconds)
                THEN 'unknown'
                WHEN r.ok THEN 'up'
                ELSE 'down' END AS state
    FROM endpoints e
    LEFT JOIN LATERAL (
        SELECT p.time, p.ok, p.total_ms
        FROM probe_results p
        WHERE p.endpoint_id = e.id AND p.time > now() - interval '1 day'
        ORDER BY p.time DESC
        LIMIT 1
    ) r ON true
    WHERE e.active
)"""

# An agency's state code from its endpoints' rows `l` (see panels.STATE_MAPPINGS):
# unknown when none is known, up when none is down, down when none is up, else degraded.
AGENCY_STATE = """
CASE WHEN count(*) FILTER (WHERE l.state IN ('up', 'down')) = 0 THEN 3
     WHEN count(*) FILTER (WHERE l.state = 'down') = 0 THEN 0
     WHEN count(*) FILTER (WHERE l.state = 'up') = 0 THEN 2
     ELSE 1 END"""


def with_latest(body: str) -> str:
    """``body`` (a query over ``latest``) behind the LATEST common table expression."""
    return "WITH " + clean(LATEST) + "\n" + clean(body)


def agency_state_expr() -> str:
    """AGENCY_STATE as one line, to embed in a select list."""
    return " ".join(line.strip() for line in clean(AGENCY_STATE).splitlines())


def new_dashboard(
    uid: str, title: str, description: str, *, time_from: str = "now-6h", refresh: str = "1m"
) -> dashboard_b.Dashboard:
    """A dashboard frame: stable uid (the push and provisioning key), tag, time, refresh."""
    return (
        dashboard_b.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .time(time_from, "now")
        .refresh(refresh)
        .timezone("browser")
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .editable()
    )


def query_variable(
    name: str, label: str, sql: str, *, include_all: bool = False
) -> dashboard_b.QueryVariable:
    """A variable filled by SQL; ``__value``/``__text`` columns give id and label."""
    variable = (
        dashboard_b.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(clean(sql))
        .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(dm.VariableSort.DISABLED)
    )
    return variable.include_all(True) if include_all else variable


def constant_variable(name: str, value: str) -> dashboard_b.ConstantVariable:
    """A hidden constant (e.g. the center's time zone) that queries use as ``$name``."""
    return dashboard_b.ConstantVariable(name).value(value)


def number_panels(model: dm.Dashboard) -> dm.Dashboard:
    """Give each panel (rows' panels too) a stable id in layout order."""
    next_id = 1
    for panel in model.panels or []:
        panel.id_val = next_id
        next_id += 1
        for inner in getattr(panel, "panels", None) or []:
            inner.id_val = next_id
            next_id += 1
    return model


def assemble(board: dashboard_b.Dashboard, panels: Panels) -> dashboard_b.Dashboard:
    """Add ``panels`` in order (their grid positions are set by the panel factories)."""
    for panel in panels:
        board = board.with_panel(panel)
    return board
