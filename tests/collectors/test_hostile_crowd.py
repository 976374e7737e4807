"""500 hostile endpoints at once must not delay the healthy ones by more than a second.

One crowd run per module (about 15 s): the real ProbeScheduler and HttpProber, on the
event loop the service uses, probe 500 hostile endpoints (drip-fed bodies and headers,
endless bodies and headers, 5,000 headers, gzip bombs, silent accepts, resets; served by
a child process) and 20 healthy loopback endpoints, all every second with a 1 s timeout.
The tests judge the recorded results only: each healthy endpoint's grid slots in a
5-second window against the probes that started in them.
"""

from __future__ import annotations

import pytest

from monitor_center.runtime import run
from tests.collectors.crowd import (
    HOSTILE,
    CrowdRun,
    SlotReport,
    percentile,
    run_crowd,
    slot_report,
)

HOSTILE_ENDPOINTS = 500
HEALTHY_ENDPOINTS = 20
WINDOW = 5.0
MAX_DELAY = 1.0  # seconds a healthy probe may be delayed past its slot


@pytest.fixture(scope="module")
def crowd() -> CrowdRun:
    return run(run_crowd(HOSTILE_ENDPOINTS, HEALTHY_ENDPOINTS, seconds=WINDOW))


@pytest.fixture(scope="module")
def healthy(crowd: CrowdRun) -> SlotReport:
    return slot_report(crowd, max_late=MAX_DELAY)


def _summary(report: SlotReport, crowd: CrowdRun) -> str:
    start = crowd.window[0]
    late = report.started_late
    return (
        f"{len(report.missing)} of {report.slots} slots without a probe started in time,"
        f" first at +{', +'.join(f'{t - start:.2f}s ({e})' for e, t in report.missing[:5])};"
        f" started late p50 {percentile(late, 50):.3f}s p99 {percentile(late, 99):.3f}s,"
        f" answered p99 {percentile(report.answered_late, 99):.3f}s; skipped {crowd.skipped}"
    )


def test_every_healthy_slot_gets_a_probe_started_within_a_second(
    healthy: SlotReport, crowd: CrowdRun
) -> None:
    assert healthy.slots >= HEALTHY_ENDPOINTS * (WINDOW - 1)
    assert healthy.missing == [], _summary(healthy, crowd)
    assert len(healthy.started_late) == healthy.slots  # and never two in one slot


def test_every_healthy_probe_comes_back_up(healthy: SlotReport) -> None:
    assert [(r.endpoint_id, r.reason) for r in healthy.down] == []


def test_every_healthy_probe_answers_within_a_second_of_its_slot(
    healthy: SlotReport, crowd: CrowdRun
) -> None:
    assert healthy.slow == [], _summary(healthy, crowd)


def test_every_hostile_endpoint_ends_down_with_its_reason(crowd: CrowdRun) -> None:
    unprobed = [e for e in crowd.hostile if not crowd.results.get(e)]
    outcomes = {
        (kind, result.ok, result.reason)
        for endpoint_id, kind in crowd.hostile.items()
        for result in crowd.results.get(endpoint_id, [])
    }
    wrong = {
        (kind, ok, reason)
        for kind, ok, reason in outcomes
        if ok or reason not in (HOSTILE[kind][1], "timeout")
    }
    # The prober gives up on its own (cap, header limit, reset), not only at the deadline.
    own_reason_seen = {kind for kind, _, reason in outcomes if reason == HOSTILE[kind][1]}

    assert unprobed == []
    assert wrong == set()
    assert own_reason_seen == set(HOSTILE)


def test_hostile_endpoints_keep_being_probed_on_their_interval(crowd: CrowdRun) -> None:
    # A 1 s deadline at a 1 s interval: a probe that ran to its deadline makes the next
    # run find it in flight (skipped, counted), so at least every other slot is probed.
    start, end = crowd.window
    per_endpoint = [
        sum(start <= r.time.timestamp() < end for r in crowd.results.get(e, []))
        for e in crowd.hostile
    ]

    assert min(per_endpoint) >= (WINDOW - 1) // 2
    assert crowd.skipped["missed"] == 0, crowd.skipped
