"""KPI targets: level-4 online services share against 30 %, e-document exchange, ranking.

The level-4 share series (one per agency) and the e-document exchange rate series are
picked in variables (see ``series``: the schema has no series catalogue yet), and the
30 % target of the national programme is the ``target`` constant and the bars' threshold.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.models import common

from monitor_center.dashboards.base import Panels, assemble, constant_variable, new_dashboard
from monitor_center.dashboards.panels import (
    bar_gauge_panel,
    stat_panel,
    steps,
    table_panel,
    timeseries_panel,
)
from monitor_center.dashboards.series import daily_values, latest_values, series_variable

UID = "mc-kpi-targets"
LEVEL4_TARGET = 30  # percent of online public services at level 4 (seeds: 2020 target)

TARGET_THRESHOLDS = steps((None, "red"), (LEVEL4_TARGET, "green"))

LEVEL4_LATEST = f"""WITH {latest_values("level4_series", multi=True)}
SELECT series_id AS series, value AS level4_share_percent
FROM latest
ORDER BY value DESC, series_id
"""

RANKING = f"""WITH {latest_values("level4_series", multi=True)}
SELECT rank() OVER (ORDER BY value DESC) AS rank,
       series_id AS series,
       value AS level4_share_percent,
       value - $target AS points_vs_target,
       value >= $target AS target_met
FROM latest
ORDER BY rank, series_id
"""

EDOC_LATEST = f"""WITH {latest_values("edoc_series", multi=False)}
SELECT value AS exchange_rate_percent
FROM latest
"""


def _level4_panels() -> Panels:
    """The share per picked series as bars against 30 %, its trend and the ranking."""
    line = common_b.GraphThresholdsStyleConfig().mode(common.GraphTresholdsStyleMode.LINE)
    return [
        bar_gauge_panel(
            "Level-4 share against the 30 % target",
            LEVEL4_LATEST,
            thresholds=TARGET_THRESHOLDS,
            w=14,
            h=12,
            at=(0, 0),
            description="Newest value of each picked series; green from 30 %.",
        ),
        timeseries_panel(
            "Level-4 share per day",
            daily_values("level4_series", multi=True),
            w=14,
            h=10,
            at=(0, 12),
            unit="percent",
            description="Daily averages from the series rollups; the line is the target.",
        )
        .thresholds(TARGET_THRESHOLDS)
        .thresholds_style(line),
        table_panel(
            "Ranking",
            RANKING,
            w=10,
            h=10,
            at=(14, 12),
            description="Picked series ranked by their newest value, with the gap to"
            " the target in percentage points.",
        ),
    ]


def _edoc_panels() -> Panels:
    """The e-document exchange rate now and per day."""
    return [
        stat_panel(
            "E-document exchange rate",
            EDOC_LATEST,
            w=10,
            h=4,
            at=(14, 0),
            unit="percent",
            description="Newest value of the picked e-document exchange series.",
        ),
        timeseries_panel(
            "E-document exchange rate per day",
            daily_values("edoc_series", multi=False),
            w=10,
            at=(14, 4),
            unit="percent",
            description="Daily averages from the series rollups.",
        ),
    ]


def build() -> dashboard_b.Dashboard:
    """Leadership's targets, over the last 90 days by default."""
    board = (
        new_dashboard(
            UID,
            "KPI targets",
            "Share of level-4 online public services per agency against the 30 % target,"
            " the e-document exchange rate and the ranking of agencies.",
            time_from="now-90d",
            refresh="15m",
        )
        .with_variable(series_variable("level4_series", "Level-4 share series", multi=True))
        .with_variable(series_variable("edoc_series", "E-document exchange series"))
        .with_variable(constant_variable("target", str(LEVEL4_TARGET)))
    )
    return assemble(board, [*_level4_panels(), *_edoc_panels()])
