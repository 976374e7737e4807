"""Panel factories shared by the dashboards: one look for every panel of a kind.

Every panel reads the center's PostgreSQL data source through one raw SQL target; the
factories take the SQL and the size and leave the rest (units, colours) to keyword
arguments, so a dashboard module reads as a list of titled queries.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, geomap, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import geomap as geomap_m

from monitor_center.dashboards.sql import DATASOURCE, Sql

# Agency and endpoint state codes used by the queries: 0 up, 1 degraded (some endpoints
# down), 2 down, 3 unknown (no fresh result: silence is never shown as health).
STATE_MAPPINGS: list[dm.ValueMapping] = [
    dm.ValueMap(
        options={
            "0": dm.ValueMappingResult(text="UP", color="green", index=0),
            "1": dm.ValueMappingResult(text="DEGRADED", color="orange", index=1),
            "2": dm.ValueMappingResult(text="DOWN", color="red", index=2),
            "3": dm.ValueMappingResult(text="UNKNOWN", color="gray", index=3),
        }
    )
]


# Where a panel goes on the 24-column grid: (x, y), or None to follow the previous one.
Position = tuple[int, int] | None


def grid(w: int, h: int, at: Position) -> dm.GridPos:
    """A panel's size and place; at (0, 0) the SDK places it after the previous panel."""
    x, y = at if at is not None else (0, 0)
    return dm.GridPos(h=h, w=w, x=x, y=y)


def steps(*pairs: tuple[float | None, str]) -> dashboard_b.ThresholdsConfig:
    """Absolute thresholds from (value, colour) pairs; the first value is None (base)."""
    return (
        dashboard_b.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=value, color=color) for value, color in pairs])
    )


STATE_THRESHOLDS = steps((None, "green"), (1, "orange"), (2, "red"), (3, "gray"))
# Availability: red below 99 %, amber below 99.9 %.
AVAILABILITY_THRESHOLDS = steps((None, "red"), (99, "orange"), (99.9, "green"))


def _reduce(*, fields: str = "") -> common_b.ReduceDataOptions:
    """One value per row (not one per column reduced over rows); ``fields``: which columns."""
    return common_b.ReduceDataOptions().calcs(["lastNotNull"]).values(True).fields(fields)


def stat_panel(
    title: str,
    sql: str,
    *,
    w: int = 6,
    h: int = 4,
    at: Position = None,
    unit: str = "none",
    description: str = "",
) -> stat.Panel:
    """A big number (or one per row when the query returns several)."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(Sql(sql))
        .grid_pos(grid(w, h, at))
        .unit(unit)
        .graph_mode(common.BigValueGraphMode.NONE)
        .reduce_options(_reduce())
    )


def state_panel(
    title: str, sql: str, *, w: int, h: int, at: Position = None, description: str
) -> stat.Panel:
    """One coloured tile per row: the row's name and its state code as UP/DOWN/…."""
    return (
        stat_panel(title, sql, w=w, h=h, at=at, description=description)
        # Only the state code is a tile; the other columns (counts) would be mapped too.
        .reduce_options(_reduce(fields="/^state$/"))
        .mappings(STATE_MAPPINGS)
        .thresholds(STATE_THRESHOLDS)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
    )


def table_panel(
    title: str, sql: str, *, w: int = 24, h: int = 8, at: Position = None, description: str = ""
) -> table.Panel:
    """Rows as returned by the query."""
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(Sql(sql))
        .grid_pos(grid(w, h, at))
    )


def unit_override(name: str, unit: str) -> dashboard_b.DashboardFieldConfigSourceOverrides:
    """Give one column of a table its own unit."""
    return (
        dashboard_b.DashboardFieldConfigSourceOverrides()
        .matcher(dm.MatcherConfig(id_val="byName", options=name))
        .properties([dm.DynamicConfigValue(id_val="unit", value=unit)])
    )


def timeseries_panel(
    title: str,
    sql: str,
    *,
    w: int = 12,
    h: int = 8,
    at: Position = None,
    unit: str = "none",
    bars: bool = False,
    description: str = "",
) -> timeseries.Panel:
    """Lines (or bars) from a time-series query: ``time``, then ``metric``/values."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).time_series())
        .grid_pos(grid(w, h, at))
        .unit(unit)
        .fill_opacity(20 if bars else 10)
    )
    if bars:
        panel = panel.draw_style(common.GraphDrawStyle.BARS)
    return panel


def bar_gauge_panel(
    title: str,
    sql: str,
    *,
    thresholds: dashboard_b.ThresholdsConfig,
    w: int = 12,
    h: int = 10,
    at: Position = None,
    unit: str = "percent",
    max_value: float = 100,
    description: str = "",
) -> bargauge.Panel:
    """Horizontal bars, one per row, coloured by thresholds (e.g. the 30 % target)."""
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(Sql(sql))
        .grid_pos(grid(w, h, at))
        .unit(unit)
        .min(0)
        .max(max_value)
        .thresholds(thresholds)
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.GRADIENT)
        .show_unfilled(True)
        .reduce_options(_reduce())
    )


def province_map_panel(
    title: str, sql: str, *, w: int, h: int, at: Position = None, description: str
) -> geomap.Panel:
    """Markers at each row's ``latitude``/``longitude``, coloured by its ``state`` code."""
    markers = (
        common_b.MapLayerOptions()
        .type("markers")
        .name("Provinces")
        .location(
            common_b.FrameGeometrySource()
            .mode(common.FrameGeometrySourceMode.COORDS)
            .latitude("latitude")
            .longitude("longitude")
        )
        .tooltip(True)
        .config(
            {
                "showLegend": True,
                "style": {
                    "color": {"field": "state", "fixed": "gray"},
                    "size": {"fixed": 9},
                    "opacity": 0.9,
                    "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
                },
            }
        )
    )
    return (
        geomap.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(Sql(sql))
        .grid_pos(grid(w, h, at))
        # Centred on Viet Nam; zoom 5 shows the country from north to south.
        .view(geomap.MapViewConfig().id("coords").lat(16).lon(106).zoom(5))
        .basemap(common_b.MapLayerOptions().type("default").name("Basemap"))
        .layers([markers])
        .mappings(STATE_MAPPINGS)
        .thresholds(STATE_THRESHOLDS)
        # Hovering a province shows every column of its row (name, endpoints up, …).
        .tooltip(geomap.TooltipOptions().mode(geomap_m.TooltipMode.DETAILS))
    )
