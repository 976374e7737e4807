"""Series readings into the database in the background: the shared ``BatchWriter``
(``monitor_center/writer.py``) with values stored by COPY and errors alongside."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from collectors.series import ReadError, SeriesReading
from monitor_center.db.repositories.series import ErrorRow, SampleRow
from monitor_center.series.metrics import SeriesMetrics
from monitor_center.spool import Codec, Spool
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


def encode_reading(reading: SeriesReading) -> dict[str, Any]:
    """A reading as the spool stores it: a value, or an error's reason and message."""
    data: dict[str, Any] = {"series": reading.series_id, "time": reading.time.isoformat()}
    if reading.value is not None:
        data["value"] = reading.value
    if reading.error is not None:
        data["error"] = [reading.error.reason, reading.error.message]
    return data


def decode_reading(data: Any) -> SeriesReading:
    """Inverse of ``encode_reading``."""
    error = data.get("error")
    value = data.get("value")
    return SeriesReading(
        str(data["series"]),
        datetime.fromisoformat(data["time"]),
        value=None if value is None else float(value),
        error=None if error is None else ReadError(str(error[0]), str(error[1])),
    )


READING_CODEC: Codec[SeriesReading] = Codec("series", encode_reading, decode_reading)


class SeriesWriter(BatchWriter[SeriesReading]):
    """Series readings: values into ``series_samples``, errors into ``series_errors``.

    ``store`` returns how many samples were new: the written counter counts samples.
    """

    def __init__(
        self,
        store: Store,
        metrics: SeriesMetrics,
        *,
        batch_size: int = 2000,
        flush_interval: float = 0.25,
        buffer_limit: int = 500_000,
        retry_max: float = 10.0,
        spool: Spool[SeriesReading] | None = None,
    ) -> None:
        async def store_split(batch: Sequence[SeriesReading]) -> int:
            return await store(*split(batch))

        super().__init__(
            store_split,
            WriterCounters(metrics.written, metrics.dropped, metrics.storage_errors),
            what="series readings",
            batch_size=batch_size,
            flush_interval=flush_interval,
            buffer_limit=buffer_limit,
            retry_max=retry_max,
            spool=spool,
        )
