"""Spools on a test's temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from monitor_center.spool import Codec, Spool, SpoolMetrics

T = TypeVar("T")


def spool_at(
    directory: Path,
    codec: Codec[T],
    metrics: SpoolMetrics,
    *,
    max_bytes: int = 1024 * 1024,
    dropped: list[int] | None = None,
) -> Spool[T]:
    """A spool in ``directory`` whose drops are appended to ``dropped``."""
    sink = dropped if dropped is not None else []
    return Spool(directory, codec, metrics, max_bytes=max_bytes, on_drop=sink.append)


NUMBERS: Codec[int] = Codec("numbers", lambda n: n, int)
"""Plain integers: enough to follow order, loss and duplicates."""
