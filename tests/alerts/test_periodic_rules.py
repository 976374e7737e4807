"""Periodic rules through the running alerting: verdicts from stored data become alerts."""

from __future__ import annotations

from datetime import timedelta

from psycopg_pool import AsyncConnectionPool

from core.results import Latency, ProbeResult
from monitor_center.db.repositories import ProbeResultRepository
from tests.alerts.rig import T0, alerting_rig, fleet_config

RULES = """
rules:
  - {id: slow-portal, kind: latency, severity: warning, threshold: 800ms, window: 5m,
     match: {agency: mof}}
  - {id: platform-slo, kind: availability, severity: critical, objective: 99.5,
     match: {agency_kind: platform}}
  - {id: silent-portal, kind: no_data, subject: endpoint, intervals: 3, for: 30s}
"""


def results(
    endpoint: str, n: int, *, seconds: float, ok: bool = True, before: float = 0.0
) -> list[ProbeResult]:
    """``n`` results 10 s apart ending ``before`` seconds before T0, ``seconds`` long each."""
    return [
        ProbeResult(
            endpoint_id=endpoint,
            time=T0 - timedelta(seconds=before + 10 * (n - i)),
            ok=ok,
            latency=Latency(total=seconds),
            status=200 if ok else 503,
            reason=None if ok else "status 503",
        )
        for i in range(n)
    ]


async def test_slow_probes_raise_a_latency_alert_naming_the_percentile(
    pool: AsyncConnectionPool,
) -> None:
    stored = ProbeResultRepository(pool)
    await stored.insert_many(results("mof-portal", 20, seconds=1.5))
    await stored.insert_many(results("ngsp-portal", 20, seconds=1.5))  # not matched: ngsp
    async with alerting_rig(pool, fleet_config(RULES)) as rig:
        await rig.tick()
        [alert] = [a for a in rig.alerting.engine.open_alerts() if a.rule == "slow-portal"]

    assert (alert.subject, alert.state) == ("mof-portal", "firing")
    assert alert.value == 1500.0
    assert "800" in alert.summary


async def test_a_burning_error_budget_raises_an_availability_alert(
    pool: AsyncConnectionPool,
) -> None:
    stored = ProbeResultRepository(pool)
    # 55 good minutes, then 5 failed ones: 100 % errors over 5 min, 8.3 % over the hour,
    # both above 14.4 x the 0.5 % budget.
    await stored.insert_many(results("ngsp-portal", 330, seconds=0.1, before=300))
    await stored.insert_many(results("ngsp-portal", 30, seconds=0.1, ok=False))
    async with alerting_rig(pool, fleet_config(RULES)) as rig:
        await rig.tick()
        found = [a for a in rig.alerting.engine.open_alerts() if a.rule == "platform-slo"]

    [alert] = found
    assert (alert.subject, alert.severity, alert.state) == ("ngsp-portal", "critical", "firing")


async def test_an_endpoint_that_stops_reporting_raises_no_data_after_its_for(
    pool: AsyncConnectionPool,
) -> None:
    async with alerting_rig(pool, fleet_config(RULES)) as rig:

        def silent() -> dict[str, str]:
            alerts = rig.alerting.engine.open_alerts()
            return {a.subject: a.state for a in alerts if a.rule == "silent-portal"}

        for endpoint in ("ngsp-portal", "nghe-an-portal", "ha-tinh-portal", "mof-portal"):
            await rig.probe(endpoint, ok=True)
        seen = []
        for _ in range(8):  # mof keeps reporting every 10 s, the others fall silent
            await rig.probe("mof-portal", ok=True)
            await rig.advance(10)
            seen.append(silent())

    others = {"ngsp-portal", "nghe-an-portal", "ha-tinh-portal"}
    assert seen[1] == {}  # 20 s: still fresh (3 intervals of 10 s)
    assert seen[3] == dict.fromkeys(others, "pending")  # silent, but not yet for 30 s
    assert seen[-1] == dict.fromkeys(others, "firing")
