"""Series (transaction counters, KPI gauges) inside the service: polling on a schedule,
batched COPY storage, the push API's writes and the live view."""

from monitor_center.series.live import SeriesLive, per_minute
from monitor_center.series.metrics import SeriesMetrics
from monitor_center.series.runtime import SeriesRuntime, series_spec
from monitor_center.series.writer import SeriesWriter

__all__ = [
    "SeriesLive",
    "SeriesMetrics",
    "SeriesRuntime",
    "SeriesWriter",
    "per_minute",
    "series_spec",
]
