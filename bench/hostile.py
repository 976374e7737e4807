"""Hostile crowd: 500 hostile endpoints at once must not delay the healthy ones by > 1 s.

The crowd of ``tests/collectors/crowd.py`` (drip-fed bodies and headers, endless bodies and
headers, 5,000 headers, gzip bombs, silent accepts, resets, in a child process; healthy
loopback endpoints in this one), through the real ProbeScheduler and HttpProber, all at a
1 s interval with a 1 s timeout. Measured: how long after its grid slot each healthy probe
came back, worst case; the test suite asserts the same bound on a shorter window.
"""

from __future__ import annotations

from bench.table import Row
from tests.collectors.crowd import HOSTILE, percentile, run_crowd, slot_report

TARGET_SECONDS = 1.0


async def run(hostile: int = 500, healthy: int = 20, seconds: float = 10.0) -> list[Row]:
    print(f"hostile crowd: {hostile} hostile + {healthy} healthy endpoints at 1 s, {seconds:.0f} s")
    crowd = await run_crowd(hostile, healthy, seconds=seconds)
    report = slot_report(crowd, max_late=TARGET_SECONDS)
    wrong = sum(
        r.ok or r.reason not in (HOSTILE[kind][1], "timeout")
        for endpoint_id, kind in crowd.hostile.items()
        for r in crowd.results.get(endpoint_id, [])
    )
    hostile_probes = sum(len(crowd.results.get(e, [])) for e in crowd.hostile)
    print(
        f"  healthy: {report.slots - len(report.missing)}/{report.slots} slots probed in time,"
        f" {len(report.down)} down; started late p50 {percentile(report.started_late, 50):.3f}s"
        f" p99 {percentile(report.started_late, 99):.3f}s; hostile: {hostile_probes} probes,"
        f" {wrong} not down with their reason; skipped {crowd.skipped};"
        f" peak RSS {crowd.peak_rss_mb:.0f} MB"
    )
    worst = max(report.answered_late, default=float("inf"))
    if report.missing or report.down:
        worst = float("inf")  # a slot never probed, or a healthy probe down: unbounded delay
    note = (
        f"{hostile} hostile ({len(HOSTILE)} kinds) + {healthy} healthy @1s, timeout 1s;"
        f" healthy p99 {percentile(report.answered_late, 99):.3f}s;"
        f" {wrong} hostile probes not down with their reason"
    )
    return [
        Row(
            "hostile crowd",
            "s, worst healthy delay",
            TARGET_SECONDS,
            worst,
            None,
            "",
            higher_is_better=False,
            note=note,
        )
    ]
