"""Self-monitoring of series collection, on the service's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from collectors.series import ERROR_REASONS

SKIP_REASONS = ("in_flight", "missed")


class SeriesMetrics:
    """Counters for series reads, pushes and their storage."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.errors = Counter(
            "monitor_center_series_errors",
            "Series reads that gave no value, by reason (timeout, not_json, path_missing,"
            " not_numeric, not_finite, http_status, ...).",
            ["reason"],
            registry=registry,
        )
        self.reads = Counter(
            "monitor_center_series_reads",
            "Series reads that gave a value.",
            registry=registry,
        )
        self.pushed = Counter(
            "monitor_center_series_pushed_samples",
            "Samples received on the push API, by whether they were new or duplicates.",
            ["outcome"],
            registry=registry,
        )
        self.written = Counter(
            "monitor_center_series_samples_written",
            "Collected series samples stored in the database.",
            registry=registry,
        )
        self.dropped = Counter(
            "monitor_center_series_readings_dropped",
            "Series readings dropped because the write buffer was full.",
            registry=registry,
        )
        self.storage_errors = Counter(
            "monitor_center_series_storage_errors",
            "Failed attempts to write a batch of series readings (retried).",
            registry=registry,
        )
        self.skipped_runs = Counter(
            "monitor_center_series_skipped_runs",
            "Scheduled series reads not started: previous still in flight, or missed.",
            ["reason"],
            registry=registry,
        )
        for reason in ERROR_REASONS:
            self.errors.labels(reason)
        for outcome in ("new", "duplicate"):
            self.pushed.labels(outcome)
        for skip in SKIP_REASONS:
            self.skipped_runs.labels(skip)
