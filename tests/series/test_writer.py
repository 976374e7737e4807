"""The series writer: batches, splits values from errors, keeps a batch the database refused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg
from prometheus_client import CollectorRegistry

from collectors.series import ReadError, SeriesReading
from monitor_center.db.repositories.series import ErrorRow, SampleRow
from monitor_center.series.metrics import SeriesMetrics
from monitor_center.series.writer import SeriesWriter

T0 = datetime(2024, 5, 1, tzinfo=UTC)


class FlakyStore:
    """Refuses the first ``failures`` writes as an unreachable database would."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.samples: list[SampleRow] = []
        self.errors: list[ErrorRow] = []

    async def __call__(self, samples: Sequence[SampleRow], errors: Sequence[ErrorRow]) -> int:
        if self.failures:
            self.failures -= 1
            raise psycopg.OperationalError("connection refused")
        self.samples += samples
        self.errors += errors
        return len(samples)


def _readings(count: int) -> list[SeriesReading]:
    out = []
    for i in range(count):
        at = T0 + timedelta(seconds=i)
        if i % 10 == 9:
            out.append(SeriesReading("kpi", at, error=ReadError("timeout", "timeout")))
        else:
            out.append(SeriesReading("kpi", at, value=float(i)))
    return out


async def test_values_and_errors_are_stored_after_the_database_comes_back() -> None:
    store = FlakyStore(failures=2)
    registry = CollectorRegistry()
    metrics = SeriesMetrics(registry)
    writer = SeriesWriter(store, metrics, batch_size=7, flush_interval=0.01, retry_max=0.05)
    writer.start()
    for reading in _readings(50):
        writer.submit(reading)
    await writer.drained()
    await writer.close()
    assert [row[2] for row in store.samples] == [float(i) for i in range(50) if i % 10 != 9]
    assert [row[1] for row in store.errors] == [
        T0 + timedelta(seconds=i) for i in (9, 19, 29, 39, 49)
    ]
    assert registry.get_sample_value("monitor_center_series_storage_errors_total") == 2
    assert registry.get_sample_value("monitor_center_series_samples_written_total") == 45
    assert writer.pending == 0


async def test_past_the_buffer_limit_the_oldest_readings_are_dropped() -> None:
    store = FlakyStore(failures=0)
    registry = CollectorRegistry()
    metrics = SeriesMetrics(registry)
    writer = SeriesWriter(store, metrics, buffer_limit=5)
    for reading in _readings(8):
        writer.submit(reading)
    writer.start()
    await writer.drained()
    await writer.close()
    assert [row[2] for row in store.samples] == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert registry.get_sample_value("monitor_center_series_readings_dropped_total") == 3
