"""The token bucket behind the push API's rate limit, on a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FrozenClock
from monitor_center.api.ratelimit import RateLimiter


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2024, 5, 1, tzinfo=UTC))


def test_an_empty_bucket_says_how_long_until_the_next_token(clock: FrozenClock) -> None:
    limiter = RateLimiter(rate=4.0, burst=2, clock=clock)

    assert [limiter.take("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.25)
    clock.advance(0.1)
    assert limiter.take("a") == pytest.approx(0.15)  # a refusal takes nothing


def test_a_bucket_never_holds_more_than_the_burst(clock: FrozenClock) -> None:
    limiter = RateLimiter(rate=10.0, burst=3, clock=clock)
    limiter.take("a")
    clock.advance(3600)

    granted = [limiter.take("a") == 0.0 for _ in range(5)]

    assert granted == [True, True, True, False, False]


def test_many_small_clock_steps_add_up_to_a_token(clock: FrozenClock) -> None:
    limiter = RateLimiter(rate=10.0, burst=1, clock=clock)
    limiter.take("a")
    for _ in range(10):
        clock.advance(0.01)

    assert limiter.take("a") == 0.0


def test_rate_zero_turns_the_limit_off(clock: FrozenClock) -> None:
    limiter = RateLimiter(rate=0.0, burst=1, clock=clock)

    assert {limiter.take("a") for _ in range(1000)} == {0.0}
