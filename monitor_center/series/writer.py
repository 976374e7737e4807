"""Series readings into the database in the background: the shared ``BatchWriter``
(``monitor_center/writer.py``) with values stored by COPY and errors alongside."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from collectors.series import SeriesReading
from monitor_center.db.repositories.series import ErrorRow, SampleRow
from monitor_center.series.metrics import SeriesMetrics
from monitor_center.writer import BatchWriter, WriterCounters

Store = Callable[[Sequence[SampleRow], Sequence[ErrorRow]], Awaitable[int]]


def split(readings: Sequence[SeriesReading]) -> tuple[list[SampleRow], list[ErrorRow]]:
    """Rows for ``series_samples`` and for ``series_errors``."""
    samples: list[SampleRow] = []
    errors: list[ErrorRow] = []
    for r in readings:
        if r.value is not None:
            samples.append((r.series_id, r.time, r.value))
        elif r.error is not None:
            errors.append((r.series_id, r.time, r.error.reason, r.error.message))
    return samples, errors


def _samples_in(readings: Sequence[SeriesReading]) -> int:
    return sum(r.value is not None for r in readings)


class SeriesWriter(BatchWriter[SeriesReading]):
    """Series readings: values into ``series_samples``, errors into ``series_errors``."""

    def __init__(
        self,
        store: Store,
        metrics: SeriesMetrics,
        *,
        batch_size: int = 2000,
        flush_interval: float = 0.25,
        buffer_limit: int = 500_000,
        retry_max: float = 10.0,
    ) -> None:
        async def store_split(batch: Sequence[SeriesReading]) -> int:
            return await store(*split(batch))

        super().__init__(
            store_split,
            WriterCounters(metrics.written, metrics.dropped, metrics.storage_errors),
            what="series readings",
            counted=_samples_in,
            batch_size=batch_size,
            flush_interval=flush_interval,
            buffer_limit=buffer_limit,
            retry_max=retry_max,
        )
