"""``latency``: a percentile of probe latency over a window above a threshold."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from alerts.rules.common import Verdict, format_number, format_seconds


@dataclass(frozen=True, slots=True)
class LatencyParams:
    """Fire when the ``percentile`` of successful probes' latency over the last
    ``window`` seconds exceeds ``threshold_ms``; judge only with ``min_samples`` or more."""

    threshold_ms: float
    percentile: float = 95.0
    window: float = 300.0
    min_samples: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.percentile <= 100:
            raise ValueError("percentile must be in (0, 100]")
        if self.threshold_ms <= 0 or self.window <= 0 or self.min_samples < 1:
            raise ValueError("threshold_ms and window must be positive, min_samples at least 1")


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: the smallest observed value with at least `p` % of
    the values at or below it (``ceil(p/100 * n)``-th smallest).

    Nearest rank always returns a latency that really happened, and with the few
    samples of a short window it does not invent values between two probes.
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def evaluate_latency(latencies_ms: Sequence[float], p: LatencyParams) -> Verdict:
    """Compare the window's percentile latency (ms) with the threshold."""
    label = f"p{format_number(p.percentile)} latency"
    window = format_seconds(p.window)
    count = len(latencies_ms)
    if count < p.min_samples:
        return Verdict.insufficient(
            f"not enough data: {count} of {p.min_samples} successful probes in the last {window}"
        )
    value = percentile(latencies_ms, p.percentile)
    relation = "above" if value > p.threshold_ms else "within"
    return Verdict(
        active=value > p.threshold_ms,
        value=value,
        summary=(
            f"{label} {format_number(value)} ms {relation} {format_number(p.threshold_ms)} ms"
            f" over the last {window} ({count} probes)"
        ),
    )
