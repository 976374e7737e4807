"""Hourly and daily rollups of probe results and series samples, and raw retention.

Buckets are hours and days in the center's time zone (``center.timezone``, by default
Asia/Ho_Chi_Minh): a day starts at local midnight. Rollups are kept for years; raw rows
are dropped after ``MONITOR_RAW_RETENTION_DAYS`` (90), once their buckets are rolled.

Probe rollups (``probe_rollups``), per endpoint and bucket:

- ``total``, ``ok``: probes whose time falls in the bucket, and those that succeeded.
- Spans: each result stands for the time from its own instant until the next result of
  the same endpoint, but at most 2 x the endpoint's interval (``endpoints.interval_seconds``)
  and never past the moment of rolling. A span crossing a bucket boundary is split.
- ``covered_seconds``: the part of the bucket covered by spans. The rest is unknown (the
  center was down, the endpoint is new, results went missing) and never counts as up.
- ``downtime_seconds``: the part covered by spans of failed results.
- ``latency_p50/p95/p99_ms``: ``percentile_cont`` of the total latency of the ok probes
  in the bucket (NULL when none).

Series rollups (``series_rollups``), per series and bucket: ``samples``, ``min``,
``max``, ``avg``, ``last`` of the samples in the bucket, and ``increase`` from the
baseline (the last sample before the bucket, looked for up to a day back; else the
bucket's first sample) to the bucket's last sample. Counters: a value lower than the one
before is a reset and counts as the increase since the reset (Prometheus semantics,
without extrapolation); gauges: last minus baseline. With a baseline, hourly increases
add up exactly to the daily one. NULL with fewer than two points or an unknown kind.

Every bucket is recomputed whole in one transaction (delete, then insert): running a
job twice, or again after it stopped half-way, gives the same numbers. See ``job`` for
how changed buckets are found and ``retention`` for how raw rows are dropped.
"""

from monitor_center.rollups.job import Progress, RollupJob, RollupReport, RollupScope
from monitor_center.rollups.loop import RollupLoop
from monitor_center.rollups.retention import Dropped, RetentionReport, enforce_retention

__all__ = [
    "Dropped",
    "Progress",
    "RetentionReport",
    "RollupJob",
    "RollupLoop",
    "RollupReport",
    "RollupScope",
    "enforce_retention",
]
