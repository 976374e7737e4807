"""The persister keeps alert changes in order and is never blocked by one bad change."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from alerts.model import Observation
from monitor_center.db.repositories.alerts import AlertFilter
from tests.alerts.rig import alerting_rig, fleet_config

RULES = """
rules:
  - {id: endpoint-down, kind: endpoint_down, severity: critical, failures: 2}
  - {id: kpi-low, kind: no_data, subject: endpoint, intervals: 3}
"""


async def test_a_change_the_database_refuses_is_skipped_and_later_ones_are_stored(
    pool: AsyncConnectionPool,
) -> None:
    async with alerting_rig(pool, fleet_config(RULES)) as rig:
        bad = Observation(
            rule="kpi-low",
            rule_kind="no_data",
            subject="mof-portal",
            severity="warning",
            condition="active",
            time=rig.clock.now(),
            summary="text PostgreSQL cannot store: \x00",
        )
        rig.alerting.observe([bad])
        await rig.alerting.flush()
        for _ in range(2):
            await rig.probe("ngsp-portal", ok=False)
        stored = await rig.alerting.alerts.find(AlertFilter())

    assert [(a.rule, a.subject, a.state) for a in stored] == [
        ("endpoint-down", "ngsp-portal", "firing")
    ]
