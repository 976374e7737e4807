"""Queries over series (transaction counters, KPI gauges) and the variables that pick them.

The schema has no series catalogue: series live in the config, and the database only
knows their ids (``series_samples``, ``series_rollups``). So which series is NGSP's
transaction counter, or which are the level-4 shares, is picked in a dashboard variable
(listing the ids that have data) and saved with the dashboard, never guessed from ids.
When a catalogue table (id, agency, kind, target) lands, these variables can become
queries over it and the KPI panels can join agencies and per-series targets.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b

from monitor_center.dashboards.base import query_variable
from monitor_center.dashboards.sql import clean

# Ids with daily rollups (history) or samples in the last day (new series).
SERIES_IDS = """
SELECT series_id FROM series_rollups WHERE resolution = 'day'
UNION
SELECT series_id FROM series_samples WHERE time > now() - interval '1 day'
ORDER BY 1
"""


def series_variable(name: str, label: str, *, multi: bool = False) -> dashboard_b.QueryVariable:
    """A variable listing the series ids; ``multi`` allows several (SQL: ``IN ($name)``)."""
    variable = query_variable(name, label, SERIES_IDS)
    return variable.multi(True) if multi else variable


# A counter's increase per minute, with resets handled as Prometheus rate(): a drop means
# the counter restarted from zero, so the new value is the increase. The hour before the
# range gives the first sample in range its predecessor.
NGSP_RATE = """
WITH s AS (
    SELECT time, value,
           value - lag(value) OVER w AS delta,
           extract(epoch FROM time - lag(time) OVER w) AS seconds
    FROM series_samples
    WHERE series_id = '$ngsp_series'
      AND time BETWEEN $__timeFrom()::timestamptz - interval '1 hour' AND $__timeTo()
    WINDOW w AS (ORDER BY time)
)
SELECT $__timeGroupAlias(time, $__interval),
       60 * sum(CASE WHEN delta < 0 THEN value ELSE delta END) / nullif(sum(seconds), 0)
           AS transactions_per_minute
FROM s
WHERE seconds > 0 AND $__timeFilter(time)
GROUP BY 1
ORDER BY 1
"""
NGSP_RATE_DESCRIPTION = (
    "Increase per minute of the counter picked in the NGSP series variable (resets"
    " handled like Prometheus rate())."
)

# Raw samples averaged per interval: gauges as read, counters as cumulative totals.
AGENCY_SERIES = """
SELECT $__timeGroupAlias(time, $__interval), series_id AS metric, avg(value) AS value
FROM series_samples
WHERE series_id IN ($series) AND $__timeFilter(time)
GROUP BY 1, 2
ORDER BY 1, 2
"""
AGENCY_SERIES_DESCRIPTION = (
    "The series picked in the Series variable (the schema does not link series to"
    " agencies): gauges as read, counters as cumulative totals."
)


def picked(variable: str, *, multi: bool) -> str:
    """The SQL test for the series picked in ``variable``.

    Grafana quotes the values of a multi-value variable (``'a','b'``) but pastes a single
    value as it is, so the single one is quoted here.
    """
    return f"IN (${variable})" if multi else f"= '${variable}'"


def latest_values(variable: str, *, multi: bool) -> str:
    """``latest(series_id, value)``: each picked series' newest value in the range.

    Raw samples win when there are any (they are the newest data; retention drops the
    oldest), else the last value of the newest daily rollup, so old months still show.
    """
    return clean(
        f"""
        latest AS (
            SELECT DISTINCT ON (series_id) series_id, value
            FROM (
                SELECT series_id, time, value, 1 AS raw
                FROM series_samples
                WHERE series_id {picked(variable, multi=multi)} AND $__timeFilter(time)
                UNION ALL
                SELECT series_id, bucket, last, 0
                FROM series_rollups
                WHERE resolution = 'day' AND series_id {picked(variable, multi=multi)}
                  AND $__timeFilter(bucket)
            ) v
            ORDER BY series_id, raw DESC, time DESC
        )"""
    )


def daily_values(variable: str, *, multi: bool) -> str:
    """Each picked series' daily average from the rollups, as a time series."""
    return clean(
        f"""
        SELECT bucket AS "time", series_id AS metric, avg AS value
        FROM series_rollups
        WHERE resolution = 'day' AND series_id {picked(variable, multi=multi)}
          AND $__timeFilter(bucket)
        ORDER BY 1, 2
        """
    )
