"""Response latency of simulated endpoints: deterministic from a seed, cheap per request."""

from __future__ import annotations

import math
import random

# Base latency ranges in milliseconds. National platforms sit in government data centres
# next to the center; provincial portals are further away and often under-provisioned.
BASE_LATENCY_MS: dict[str, tuple[float, float]] = {
    "platform": (20.0, 60.0),
    "ministry": (30.0, 120.0),
    "province": (40.0, 250.0),
}
# The network round trip is a floor: a response is never much faster than the base.
_JITTER_FLOOR = 0.85
_JITTER_SPREAD = 0.15
_JITTER_SIGMA = 0.8


class EndpointLatency:
    """Latency of one endpoint: a fixed base drawn from the seed plus per-request jitter.

    The base is log-uniform within the kind's range (most portals are quick, a few slow);
    each request takes ``base * (0.85 + 0.15 * lognormal)``: median about the base, never
    below 85 % of it, with a long tail. The same seed, endpoint and kind always give the
    same base and the same sequence of latencies.
    """

    __slots__ = ("_rng", "base", "scale")

    def __init__(self, seed: int, endpoint_id: str, kind: str, scale: float = 1.0) -> None:
        if kind not in BASE_LATENCY_MS:
            raise ValueError(f"unknown agency kind {kind!r}")
        if scale < 0:
            raise ValueError("latency scale must not be negative")
        low, high = BASE_LATENCY_MS[kind]
        # String seeds hash with SHA-512, so the draw is stable across processes and
        # independent of PYTHONHASHSEED.
        base_rng = random.Random(f"{seed}:{endpoint_id}:base")
        self.base = math.exp(base_rng.uniform(math.log(low), math.log(high))) / 1000.0
        self.scale = scale
        self._rng = random.Random(f"{seed}:{endpoint_id}:jitter")

    def next(self) -> float:
        """Seconds the next request should take (already multiplied by the scale)."""
        if self.scale == 0:
            return 0.0
        jitter = _JITTER_FLOOR + _JITTER_SPREAD * self._rng.lognormvariate(0.0, _JITTER_SIGMA)
        return self.base * jitter * self.scale

    @property
    def minimum(self) -> float:
        """The least any request can take, in seconds (scale applied)."""
        return self.base * _JITTER_FLOOR * self.scale
