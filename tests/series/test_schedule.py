"""The series schedule: every series on its interval, one read in flight, misses counted."""

from __future__ import annotations

import asyncio
from collections import Counter

from prometheus_client import CollectorRegistry

from collectors.series import JsonQuery, SeriesReading, SeriesSpec
from core.clock import SystemClock
from monitor_center.series.metrics import SeriesMetrics
from monitor_center.series.schedule import SeriesSchedule, SeriesTarget
from tests.waiting import wait_until


class FakeReader:
    """Answers 1.0 after ``delay`` seconds; counts reads per series."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.clock = SystemClock()

    async def read(self, spec: SeriesSpec) -> SeriesReading:
        await asyncio.sleep(self.delay)
        return SeriesReading(spec.series_id, self.clock.now(), value=1.0)


def _target(series_id: str, interval: float) -> SeriesTarget:
    spec = SeriesSpec(series_id, JsonQuery(f"http://x/{series_id}", "$.v"), timeout=interval)
    return SeriesTarget(spec, interval)


async def test_targets_are_read_and_a_removed_one_stops() -> None:
    seen: Counter[str] = Counter()
    schedule = SeriesSchedule(
        FakeReader(),
        lambda r: seen.update([r.series_id]),
        SeriesMetrics(CollectorRegistry()),
        SystemClock(),
    )
    schedule.set_targets([_target("a", 0.1), _target("b", 0.1)])
    schedule.start()
    try:
        await wait_until(lambda: _both(seen), timeout=3, what="both series read")
        schedule.set_targets([_target("a", 0.1)])
        before = seen["b"]
        await asyncio.sleep(0.4)
        assert seen["b"] <= before + 1  # at most the read that was already in flight
        assert seen["a"] >= 4
        assert (await schedule.read_now("a")).value == 1.0
    finally:
        await schedule.shutdown()


async def _both(seen: Counter[str]) -> bool:
    return seen["a"] > 0 and seen["b"] > 0


async def test_a_read_still_in_flight_skips_the_next_run_and_counts_it() -> None:
    registry = CollectorRegistry()
    readings: list[SeriesReading] = []
    schedule = SeriesSchedule(
        FakeReader(delay=0.35), readings.append, SeriesMetrics(registry), SystemClock()
    )
    schedule.set_targets([_target("slow", 0.1)])
    schedule.start()

    async def skipped() -> float:
        sample = "monitor_center_series_skipped_runs_total"
        return registry.get_sample_value(sample, {"reason": "in_flight"}) or 0.0

    try:
        await wait_until(skipped, timeout=3, what="a skipped run")
    finally:
        await schedule.shutdown()
    assert readings and all(r.value == 1.0 for r in readings)
