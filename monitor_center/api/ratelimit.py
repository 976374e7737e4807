"""Token buckets, one per key: the push API's rate limit per API token.

A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens a second; a request
takes one. An empty bucket refuses the request and says how long until a token is back,
which the route turns into ``429`` with ``Retry-After``. Time comes from the injected
clock's monotonic reading, so tests decide when a bucket refills. Buckets live in the
process: several ``serve`` replicas each allow the rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.clock import Clock

_EPSILON = 1e-9


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float  # the clock's monotonic reading when ``tokens`` was last brought up to date


class RateLimiter:
    """``burst`` requests at once per key, then ``rate`` a second; ``rate`` 0 allows all."""

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        if rate < 0 or burst < 1:
            raise ValueError("rate must be >= 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """Take a token from ``key``'s bucket: 0.0 when granted, otherwise the seconds
        until one will be there (and nothing is taken)."""
        if self.rate == 0:
            return 0.0
        now = self._clock.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0 - _EPSILON:  # float sums of clock steps fall a hair short
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
            return 0.0
        return (1.0 - bucket.tokens) / self.rate
