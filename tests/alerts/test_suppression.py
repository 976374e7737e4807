"""What holds a notification back, end to end on a real database: inhibition through
agency dependencies, silences, maintenance windows, group_wait; and escalation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from tests.alerts.rig import T0, Rig, alerting_rig, fleet_config
from tests.receivers import Receiver

RULES = """
rules:
  - {id: endpoint-down, kind: endpoint_down, severity: critical, failures: 2}
  - {id: mof-slow, kind: endpoint_down, severity: warning, failures: 1,
     match: {id: mof-portal}}
channels:
  - {id: ops, kind: webhook, url: "URL/ops"}
  - {id: boss, kind: webhook, url: "URL/boss"}
routes:
  - {match: {rule: endpoint-down}, channels: [ops], escalate_after: 15m, escalate_to: [boss]}
  - {match: {rule: mof-slow}, channels: [ops]}
"""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as r:
        yield r


def config_for(receiver: Receiver, extra: str = "") -> str:
    return RULES.replace("URL", receiver.url) + extra


@pytest.fixture
async def rig(pool: AsyncConnectionPool, receiver: Receiver) -> AsyncIterator[Rig]:
    async with alerting_rig(pool, fleet_config(config_for(receiver))) as r:
        yield r


def sent(receiver: Receiver, path: str = "/ops") -> list[tuple[str, str]]:
    return [
        (r.json["status"], r.json["alerts"][0]["labels"]["subject"])
        for r in receiver.requests
        if r.path == path
    ]


async def down(rig: Rig, *endpoints: str, probes: int = 2) -> None:
    for _ in range(probes):
        for endpoint in endpoints:
            await rig.probe(endpoint, ok=False)
        await rig.advance(10)


async def test_the_national_platform_going_down_inhibits_the_provinces_that_depend_on_it(
    rig: Rig, receiver: Receiver
) -> None:
    await down(rig, "ngsp-portal", "nghe-an-portal", "ha-tinh-portal")

    assert sent(receiver) == [("firing", "ngsp-portal")]
    by_subject = {a.subject: a for a in rig.alerting.engine.open_alerts()}
    assert by_subject["nghe-an-portal"].state == "firing"  # visible, just not sent
    assert by_subject["nghe-an-portal"].inhibited
    assert by_subject["ha-tinh-portal"].inhibited
    assert not by_subject["ngsp-portal"].inhibited


async def test_provinces_still_down_when_the_platform_recovers_are_notified_then(
    rig: Rig, receiver: Receiver
) -> None:
    await down(rig, "ngsp-portal", "nghe-an-portal", "ha-tinh-portal")
    await rig.probe("ha-tinh-portal", ok=True)  # Ha Tinh came back with NGSP
    await rig.probe("ngsp-portal", ok=True)
    await rig.advance(1)

    assert sent(receiver) == [
        ("firing", "ngsp-portal"),
        ("resolved", "ngsp-portal"),
        ("firing", "nghe-an-portal"),
    ]


async def test_a_silence_suppresses_and_its_expiry_releases_a_firing_alert(
    rig: Rig, receiver: Receiver
) -> None:
    silences = rig.alerting.silences
    row = await silences.create_silence(
        {"agency": "nghe-*"}, T0, T0 + timedelta(hours=2), "ca-truc", "planned", T0
    )
    await rig.alerting.refresh_policy()
    await down(rig, "nghe-an-portal", "mof-portal")
    assert sent(receiver) == [("firing", "mof-portal")]  # warning: after its group_wait
    await rig.run_for(60, step=30)
    assert ("firing", "nghe-an-portal") not in sent(receiver)
    [alert] = [a for a in rig.alerting.engine.open_alerts() if a.subject == "nghe-an-portal"]
    assert alert.silenced

    await silences.expire_silence(row.id, rig.clock.now())
    await rig.alerting.refresh_policy()
    await rig.advance(1)
    assert sent(receiver)[-1] == ("firing", "nghe-an-portal")


async def test_a_maintenance_window_suppresses_and_is_recorded(
    pool: AsyncConnectionPool, receiver: Receiver
) -> None:
    window = f"""
maintenance:
  - {{id: nghe-an-upgrade, agency: nghe-an, start: "{T0.isoformat()}",
      end: "{(T0 + timedelta(hours=1)).isoformat()}", comment: "nâng cấp máy chủ"}}
"""
    async with alerting_rig(pool, fleet_config(config_for(receiver, window))) as rig:
        await down(rig, "nghe-an-portal")
        await rig.run_for(120, step=30)
        [alert] = rig.alerting.engine.open_alerts()
        [stored] = await rig.alerting.silences.maintenance()

    assert sent(receiver) == []
    assert alert.in_maintenance and alert.state == "firing"
    assert (stored.source, stored.agency_id, stored.comment) == (
        "config",
        "nghe-an",
        "nâng cấp máy chủ",
    )


async def test_a_weekly_maintenance_window_recurs(
    pool: AsyncConnectionPool, receiver: Receiver
) -> None:
    start = T0 - timedelta(weeks=3, minutes=5)  # three weeks ago, same time, for an hour
    window = f"""
maintenance:
  - {{agency: mof, start: "{start.isoformat()}", end: "{(start + timedelta(hours=1)).isoformat()}",
      recurring: weekly}}
"""
    async with alerting_rig(pool, fleet_config(config_for(receiver, window))) as rig:
        await down(rig, "mof-portal", probes=1)
        await rig.run_for(60, step=30)
        assert sent(receiver) == []
        rig.clock.advance(3600)  # past this week's window: the alert is released
        await rig.run_for(40, step=10)  # (a warning: after its 30 s group_wait)
        assert sent(receiver) == [("firing", "mof-portal")]


async def test_a_warning_waits_for_its_group_wait_and_one_that_clears_within_it_is_never_sent(
    rig: Rig, receiver: Receiver
) -> None:
    await rig.probe("mof-portal", ok=False)
    await rig.advance(10)
    assert sent(receiver) == []
    await rig.probe("mof-portal", ok=True)  # gone before the 30 s group_wait ended
    await rig.run_for(120, step=10)
    assert sent(receiver) == []

    await rig.probe("mof-portal", ok=False)
    await rig.advance(29)
    assert sent(receiver) == []
    await rig.advance(1)
    assert sent(receiver) == [("firing", "mof-portal")]


async def test_an_unacknowledged_alert_escalates_after_escalate_after(
    rig: Rig, receiver: Receiver
) -> None:
    await down(rig, "ngsp-portal")
    await rig.run_for(14 * 60, step=60)
    assert sent(receiver, "/boss") == []
    await rig.run_for(2 * 60, step=60)
    assert sent(receiver, "/boss") == [("firing", "ngsp-portal")]
    assert receiver.requests[-1].json["alerts"][0]["annotations"]["reason"] == "escalation"

    await rig.probe("ngsp-portal", ok=True)
    await rig.advance(1)
    assert sent(receiver, "/boss")[-1] == ("resolved", "ngsp-portal")


async def test_an_acknowledgement_stops_escalation(rig: Rig, receiver: Receiver) -> None:
    await down(rig, "ngsp-portal")
    [alert] = rig.alerting.engine.open_alerts()
    assert alert.id is not None
    acked = await rig.alerting.acknowledge(alert.id, "nguyen-van-a", "đang xử lý")
    await rig.run_for(30 * 60, step=60)

    assert sent(receiver, "/boss") == []
    stored = await rig.alerting.alerts.get(alert.id)
    assert stored is not None
    assert (stored.acknowledged_by, stored.ack_comment) == ("nguyen-van-a", "đang xử lý")
    assert acked.acknowledged_at == stored.acknowledged_at
    events = [e.event for e in await rig.alerting.alerts.events(alert.id)]
    assert events == ["pending", "firing", "acknowledged"]
