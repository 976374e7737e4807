"""Small builders for rule tests: samples on a regular grid from a fixed start."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from core.samples import Sample

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def series(values: Iterable[float], *, start: datetime = T0, step: float = 300) -> list[Sample]:
    """Samples `step` seconds apart starting at `start`."""
    return [Sample(start + timedelta(seconds=i * step), v) for i, v in enumerate(values)]
