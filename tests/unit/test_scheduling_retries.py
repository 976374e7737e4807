"""Fast re-probes: a failing endpoint is re-probed every retry_interval, not every interval.

The scheduler runs for real (APScheduler on the test's loop) against a scripted prober
that records when each probe started and ended, on the loop's clock, which the
scheduler's re-probe grid uses too. Intervals are short so the first regular run comes
within a second; every wait is on a condition.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from prometheus_client import CollectorRegistry

from collectors.http import ProbeSpec
from core.clock import SystemClock
from core.results import Latency, ProbeResult
from monitor_center.config import parse_config_text
from monitor_center.metrics import Metrics
from monitor_center.scheduling import ProbeScheduler, Target, next_slot
from monitor_center.targets import probe_targets
from tests.waiting import wait_until

INTERVAL = 0.6
STEP = 0.1  # retry_interval
# How late a probe may start against its slot on a busy machine (never early).
LATE = 0.06
EARLY = 0.005


def fails_first(n: int) -> Callable[[int], bool]:
    """An outcome script: the first ``n`` probes fail, every later one succeeds."""
    return lambda index: index >= n


def always_fails(index: int) -> bool:
    return False


@dataclass
class Call:
    start: float
    end: float = 0.0
    ok: bool = False


@dataclass
class ScriptedProber:
    """Answers each endpoint's n-th probe from its script (default: always fails)."""

    latency: float = 0.0
    scripts: dict[str, Callable[[int], bool]] = field(default_factory=dict)
    calls: dict[str, list[Call]] = field(default_factory=dict)
    active: Counter[str] = field(default_factory=Counter)
    most_active: int = 0

    async def probe(self, spec: ProbeSpec) -> ProbeResult:
        loop = asyncio.get_running_loop()
        calls = self.calls.setdefault(spec.endpoint_id, [])
        call = Call(loop.time())
        ok = self.scripts.get(spec.endpoint_id, always_fails)(len(calls))
        calls.append(call)
        self.active[spec.endpoint_id] += 1
        self.most_active = max(self.most_active, self.active[spec.endpoint_id])
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.active[spec.endpoint_id] -= 1
        call.end, call.ok = loop.time(), ok
        return ProbeResult(
            endpoint_id=spec.endpoint_id,
            time=datetime.now(UTC),
            ok=ok,
            latency=Latency(total=self.latency),
            status=200 if ok else 503,
            reason=None if ok else "status 503",
        )

    def done(self, endpoint_id: str) -> list[Call]:
        """The endpoint's finished probes, oldest first."""
        return [c for c in self.calls.get(endpoint_id, []) if c.end]


@dataclass
class Rig:
    scheduler: ProbeScheduler
    prober: ScriptedProber
    metrics: Metrics
    results: list[ProbeResult]

    def sample(self, name: str, labels: dict[str, str]) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0

    def retries(self, outcome: str) -> float:
        return self.sample("monitor_center_probe_retries_total", {"outcome": outcome})

    async def calls(self, endpoint_id: str, n: int, *, timeout: float = 5.0) -> list[Call]:
        """Wait until ``endpoint_id`` has ``n`` finished probes and is not re-probing."""

        async def enough() -> list[Call] | None:
            done = self.prober.done(endpoint_id)
            idle = endpoint_id not in self.scheduler.retrying
            return done if len(done) >= n and (idle or len(done) > n) else None

        return await wait_until(enough, timeout=timeout, what=f"{n} probes of {endpoint_id}")


def target(
    endpoint_id: str, *, retries: int, step: float | None = STEP, interval: float = INTERVAL
) -> Target:
    spec = ProbeSpec(endpoint_id=endpoint_id, url="http://127.0.0.1:9/", timeout=0.5)
    return Target(spec, interval, retry_interval=step, retries=retries)


async def make_rig(latency: float = 0.0) -> Rig:
    prober = ScriptedProber(latency=latency)
    metrics = Metrics(CollectorRegistry())
    results: list[ProbeResult] = []
    scheduler = ProbeScheduler(prober, results.append, metrics, SystemClock())
    scheduler.start()
    return Rig(scheduler, prober, metrics, results)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    r = await make_rig()
    yield r
    await r.scheduler.shutdown()


@pytest.fixture
async def slow_rig() -> AsyncIterator[Rig]:
    """Probes take 2.5 retry intervals, so re-probe slots find one still in flight."""
    r = await make_rig(latency=2.5 * STEP)
    yield r
    await r.scheduler.shutdown()


def assert_on_grid(anchor: float, starts: list[float], slots: list[int]) -> None:
    """Each start is at ``anchor + slot * STEP``, never early, at most ``LATE`` late."""
    for start, slot in zip(starts, slots, strict=True):
        late = start - (anchor + slot * STEP)
        assert -EARLY <= late <= LATE, (slot, late)


# --- the grid arithmetic ------------------------------------------------------------


def test_the_next_slot_follows_the_previous_one() -> None:
    assert next_slot(100.0, 0.5, 0, 100.0) == 1
    assert next_slot(100.0, 0.5, 1, 100.51) == 2


def test_slots_a_long_probe_ran_past_are_skipped_not_made_up() -> None:
    # Slot 1 started at 100.5 and its probe ended at 101.2: slots 2 (101.0) is gone.
    assert next_slot(100.0, 0.5, 1, 101.2) == 3


def test_reprobes_are_off_without_retries_or_when_no_faster_than_the_interval() -> None:
    assert target("a", retries=2).reprobes
    assert not target("a", retries=0).reprobes
    assert not target("a", retries=2, step=None).reprobes
    assert not target("a", retries=2, step=INTERVAL).reprobes


# --- the scheduler ------------------------------------------------------------------


async def test_a_failure_is_reprobed_every_retry_interval_until_one_succeeds(rig: Rig) -> None:
    rig.prober.scripts["a"] = fails_first(3)
    rig.scheduler.set_targets([target("a", retries=5)])
    calls = await rig.calls("a", 4, timeout=INTERVAL + 2)
    assert [c.ok for c in calls[:4]] == [False, False, False, True]
    assert_on_grid(calls[0].end, [c.start for c in calls[1:4]], [1, 2, 3])
    assert (rig.retries("failed"), rig.retries("ok")) == (2, 1)
    # Every re-probe went through on_result like a regular probe.
    assert [r.ok for r in rig.results[:4]] == [False, False, False, True]
    # After the success, nothing until the next regular run, one interval after the first.
    calls = await rig.calls("a", 5, timeout=INTERVAL + 2)
    assert abs(calls[4].start - calls[0].start - INTERVAL) <= LATE


async def test_reprobes_stop_after_the_retries_are_used_up(rig: Rig) -> None:
    rig.scheduler.set_targets([target("a", retries=2)])
    calls = await rig.calls("a", 3, timeout=INTERVAL + 2)
    assert not any(c.ok for c in calls)
    assert_on_grid(calls[0].end, [c.start for c in calls[1:3]], [1, 2])
    calls = await rig.calls("a", 4, timeout=INTERVAL + 2)
    assert abs(calls[3].start - calls[0].start - INTERVAL) <= LATE
    assert rig.retries("failed") == 2


async def test_a_confirmed_failure_is_not_reprobed_again_until_a_success(rig: Rig) -> None:
    # Probes 0-2: failure confirmed; 3: regular, still failing, no re-probes;
    # 4: regular success; 5: regular failure, which is re-probed again (6, 7).
    rig.prober.scripts["a"] = lambda i: i == 4
    rig.scheduler.set_targets([target("a", retries=2)])
    calls = await rig.calls("a", 8, timeout=5 * INTERVAL + 2)
    starts = [c.start - calls[0].start for c in calls]
    for index, regular in [(3, 1), (4, 2), (5, 3)]:
        assert abs(starts[index] - regular * INTERVAL) <= LATE, starts
    assert_on_grid(calls[5].end, [calls[6].start, calls[7].start], [1, 2])
    assert rig.retries("failed") == 4


async def test_regular_runs_while_reprobing_are_skipped_and_counted_not_bursted(
    rig: Rig,
) -> None:
    # Five re-probes at 0.15 s span 0.75 s, more than the 0.6 s interval.
    step = 0.15
    rig.scheduler.set_targets([target("a", retries=5, step=step)])
    calls = await rig.calls("a", 6, timeout=INTERVAL + 3)
    anchor = calls[0].end
    for slot, call in enumerate(calls[1:6], start=1):
        assert -EARLY <= call.start - (anchor + slot * step) <= LATE
    skipped = {"reason": "retrying"}
    assert rig.sample("monitor_center_scheduler_skipped_runs_total", skipped) >= 1


async def test_no_two_probes_of_one_endpoint_are_ever_in_flight(slow_rig: Rig) -> None:
    rig = slow_rig
    rig.scheduler.set_targets([target("a", retries=3)])
    calls = await rig.calls("a", 4, timeout=INTERVAL + 3)
    assert rig.prober.most_active == 1
    for before, after in pairwise(calls[:4]):
        assert after.start >= before.end
    # Each re-probe takes the first slot after the previous probe ended: 1, then 4, 7.
    assert_on_grid(calls[0].end, [c.start for c in calls[1:4]], [1, 4, 7])


async def test_removing_an_endpoint_cancels_its_pending_reprobes(rig: Rig) -> None:
    # "b" keeps re-probing all along, as the witness that time went on.
    rig.scheduler.set_targets([target("a", retries=50), target("b", retries=50)])

    async def both_retrying() -> bool:
        return rig.scheduler.retrying == {"a", "b"}

    await wait_until(both_retrying, timeout=INTERVAL + 2, what="a and b re-probing")
    rig.scheduler.set_targets([target("b", retries=50)])
    assert rig.scheduler.retrying == {"b"}
    removed_at = len(rig.prober.calls["a"])
    b_before = len(rig.prober.calls["b"])

    async def b_went_on() -> bool:
        return len(rig.prober.calls["b"]) >= b_before + 5

    await wait_until(b_went_on, timeout=2, what="five more probes of b")
    assert len(rig.prober.calls["a"]) == removed_at
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "reprobe-a"]


async def test_shutdown_cancels_pending_reprobes() -> None:
    rig = await make_rig()
    rig.scheduler.set_targets([target("a", retries=50)])

    async def retrying() -> bool:
        return "a" in rig.scheduler.retrying

    await wait_until(retrying, timeout=INTERVAL + 2, what="a re-probing")
    await asyncio.wait_for(rig.scheduler.shutdown(), timeout=1)
    assert not rig.scheduler.retrying
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("reprobe-")]


# --- what the service asks for ------------------------------------------------------

CONFIG = """
agencies: [{id: ngsp, name: NGSP, kind: platform}]
endpoints:
  - {id: fast, agency: ngsp, url: "http://127.0.0.1:9/", interval: 10s, retry_interval: 1s}
  - {id: plain, agency: ngsp, url: "http://127.0.0.1:9/", interval: 10s}
rules: RULES
"""


@pytest.mark.parametrize(
    ("rules", "retries"),
    [
        ("[]", 2),
        ("[{id: down, kind: endpoint_down, failures: 5}]", 4),
        (
            "[{id: a, kind: endpoint_down, failures: 2}, {id: b, kind: endpoint_down},"
            " {id: slow, kind: latency, threshold: 800ms}]",
            2,
        ),
        ("[{id: once, kind: endpoint_down, failures: 1}]", 0),
    ],
)
def test_the_service_reprobes_up_to_the_strictest_down_rule(rules: str, retries: int) -> None:
    config = parse_config_text(CONFIG.replace("RULES", rules), filename="c.yaml", env={})
    targets = {t.spec.endpoint_id: t for t in probe_targets(config)}
    assert (targets["fast"].retry_interval, targets["fast"].retries) == (1.0, retries)
    assert targets["plain"].retry_interval is None
    assert targets["fast"].reprobes == (retries > 0)
