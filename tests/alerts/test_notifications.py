"""Notifications through the outbox on a real database, to real receivers on loopback.

Time is simulated (``rig.clock``); every receiver is a real HTTP or SMTP server.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from alerts.channels import build_channel
from alerts.outbox import RetryPolicy
from monitor_center.db.repositories.alerts import AlertFilter
from monitor_center.db.repositories.notifications import NotificationFilter
from tests.alerts.rig import Rig, alerting_rig, fleet_config
from tests.receivers import Receiver, Reply, SmtpReceiver


def webhook_config(url: str, *, failures: int = 2, severity: str = "critical") -> str:
    return f"""
rules:
  - {{id: endpoint-down, kind: endpoint_down, severity: {severity}, failures: {failures}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{url}/hook", secret: "webhook-secret-0123"}}
routes:
  - {{channels: [ops-hook]}}
"""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as r:
        yield r


@pytest.fixture
async def rig(pool: AsyncConnectionPool, receiver: Receiver) -> AsyncIterator[Rig]:
    async with alerting_rig(pool, fleet_config(webhook_config(receiver.url))) as r:
        yield r


async def fire(rig: Rig, endpoint: str = "ngsp-portal", failures: int = 2) -> None:
    for _ in range(failures):
        await rig.probe(endpoint, ok=False)
        await rig.advance(10)


def statuses(receiver: Receiver) -> list[str]:
    return [r.json["status"] for r in receiver.requests]


async def test_a_firing_alert_is_sent_once_and_its_resolution_once(
    rig: Rig, receiver: Receiver
) -> None:
    await fire(rig)
    for _ in range(5):  # still down: no second "firing"
        await rig.probe("ngsp-portal", ok=False)
        await rig.advance(10)
    await rig.probe("ngsp-portal", ok=True)
    await rig.advance(1)

    assert statuses(receiver) == ["firing", "resolved"]
    labels = receiver.requests[0].json["alerts"][0]["labels"]
    assert (labels["rule"], labels["subject"], labels["severity"]) == (
        "endpoint-down",
        "ngsp-portal",
        "critical",
    )
    assert "X-Monitor-Center-Signature" in receiver.requests[0].headers


async def test_a_critical_alert_is_sent_as_soon_as_it_fires(rig: Rig, receiver: Receiver) -> None:
    await rig.probe("ngsp-portal", ok=False)
    await rig.dispatch()
    assert receiver.requests == []  # 1 of 2 failures: pending, nothing sent
    await rig.probe("ngsp-portal", ok=False)
    await rig.dispatch()  # no time passes: group_wait is 0 for critical alerts
    assert statuses(receiver) == ["firing"]


async def test_a_pending_alert_that_clears_sends_nothing(rig: Rig, receiver: Receiver) -> None:
    await rig.probe("ngsp-portal", ok=False)
    await rig.probe("ngsp-portal", ok=True)
    await rig.run_for(60, step=10)
    assert receiver.requests == []
    [alert] = await rig.alerting.alerts.find(AlertFilter())
    assert (alert.state, alert.fired_at) == ("resolved", None)


async def test_a_channel_answering_503_for_30_minutes_delivers_once_after_it_recovers(
    rig: Rig, receiver: Receiver
) -> None:
    receiver.default = Reply(503, body=b"maintenance")
    await fire(rig)
    await rig.run_until_quiet(30 * 60)
    failed = len(receiver.requests)
    receiver.default = Reply(200)
    await rig.run_until_quiet(10 * 60)

    attempts = await rig.attempts("ops-hook")
    outcomes = [outcome for _, _, outcome in attempts]
    assert outcomes == ["retry"] * failed + ["sent"]
    assert len(receiver.requests) == failed + 1  # delivered exactly once
    gaps = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert gaps[0] <= 2 and max(gaps) <= 300  # exponential from 2 s, capped at 5 min
    assert 8 <= failed <= 20
    assert rig.registry.get_sample_value(
        "monitor_center_notifications_total", {"channel": "ops-hook", "outcome": "retry"}
    ) == float(failed)


async def test_404_is_permanent_after_one_attempt(rig: Rig, receiver: Receiver) -> None:
    receiver.default = Reply(404, body=b"no such hook")
    await fire(rig)
    await rig.run_until_quiet(3600)

    assert len(receiver.requests) == 1
    [row] = await rig.alerting.outbox.find(_all())
    assert (row["state"], row["attempts"]) == ("failed", 1)
    assert "404" in row["last_error"]


async def test_429_retry_after_is_honoured(rig: Rig, receiver: Receiver) -> None:
    receiver.script(Reply(429, {"Retry-After": "120"}))
    await fire(rig)
    await rig.run_until_quiet(600)

    attempts = await rig.attempts("ops-hook")
    assert [o for _, _, o in attempts] == ["retry", "sent"]
    assert (attempts[1][0] - attempts[0][0]) >= timedelta(seconds=120)


async def test_a_hanging_receiver_times_out_and_is_retried(
    pool: AsyncConnectionPool, receiver: Receiver
) -> None:
    config = fleet_config(webhook_config(receiver.url))
    async with alerting_rig(pool, config, retry=RetryPolicy(attempt_timeout=0.3)) as rig:
        receiver.hang()
        await fire(rig)
        receiver.release()
        await rig.run_until_quiet(600)

        attempts = await rig.attempts("ops-hook")
        assert [o for _, _, o in attempts] == ["retry", "sent"]
        [row] = await rig.alerting.outbox.find(_all())
        assert row["state"] == "sent"


async def test_a_clean_restart_while_firing_sends_no_second_firing_and_still_sends_resolved(
    pool: AsyncConnectionPool, receiver: Receiver
) -> None:
    config = fleet_config(webhook_config(receiver.url))
    async with alerting_rig(pool, config) as rig:
        await fire(rig)
        now = rig.clock
    async with alerting_rig(pool, config, clock=now) as rig:
        for _ in range(3):
            await rig.probe("ngsp-portal", ok=False)
            await rig.advance(10)
        await rig.probe("ngsp-portal", ok=True)
        await rig.advance(1)

    assert statuses(receiver) == ["firing", "resolved"]


async def test_a_crash_between_send_and_commit_sends_at_most_one_duplicate(
    rig: Rig, receiver: Receiver
) -> None:
    await rig.probe("ngsp-portal", ok=False)
    await rig.probe("ngsp-portal", ok=False)
    # A dispatcher claims and sends, then dies before recording the attempt.
    now = rig.clock.now()
    [claimed] = await rig.alerting.outbox.claim(now, now + timedelta(seconds=40), 10)
    channel = build_channel("webhook", "ops-hook", {"url": f"{receiver.url}/hook"})
    await channel.send(claimed.notice, timeout=2)
    assert await rig.dispatch() == 0  # the lease holds: nobody else sends it meanwhile

    await rig.run_until_quiet(3600)  # the lease expires; the row is sent again, once
    assert statuses(receiver) == ["firing", "firing"]
    [row] = await rig.alerting.outbox.find(_all())
    assert row["state"] == "sent"


async def test_an_endpoint_flapping_every_probe_does_not_send_a_notification_per_flap(
    pool: AsyncConnectionPool, receiver: Receiver
) -> None:
    config = fleet_config(webhook_config(receiver.url, failures=1))
    async with alerting_rig(pool, config) as rig:
        for _ in range(30):  # 30 outages in 10 minutes
            await rig.probe("ngsp-portal", ok=False)
            await rig.advance(10)
            await rig.probe("ngsp-portal", ok=True)
            await rig.advance(10)
        during = statuses(receiver)
        await rig.run_for(11 * 60, step=30)  # quiet for longer than the flap window

    assert len(during) <= 5
    assert during[-1] == "firing"  # the last word while flapping: it is flapping
    assert (
        "flapping" in receiver.requests[len(during) - 1].json["alerts"][0]["annotations"]["summary"]
    )
    assert statuses(receiver)[len(during) :] == ["resolved"]


async def test_an_email_arrives_at_a_real_smtp_server_with_the_alert_details(
    pool: AsyncConnectionPool,
) -> None:
    async with SmtpReceiver() as smtp:
        config = fleet_config(
            f"""
rules:
  - {{id: endpoint-down, kind: endpoint_down, severity: critical, failures: 2}}
channels:
  - {{id: oncall-mail, kind: email, to: [truc-ban@example.vn], smtp_host: 127.0.0.1,
      smtp_port: {smtp.port}}}
routes:
  - {{channels: [oncall-mail]}}
"""
        )
        async with alerting_rig(pool, config) as rig:
            await fire(rig, "nghe-an-portal")
            [message] = await smtp.wait_for_messages(1)

    assert "endpoint-down" in message["Subject"]
    assert "nghe-an-portal" in message["Subject"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "status 503" in text.get_content()
    assert "nghe-an" in html.get_content()


def _all() -> NotificationFilter:
    return NotificationFilter(limit=1000)


async def test_notifications_can_be_limited_to_one_agencys_alerts(
    rig: Rig, receiver: Receiver
) -> None:
    await fire(rig)  # ngsp-portal, agency ngsp
    ngsp = await rig.alerting.outbox.find(NotificationFilter(agency="ngsp"))
    mof = await rig.alerting.outbox.find(NotificationFilter(agency="mof"))
    assert [r["channel_id"] for r in ngsp] == ["ops-hook"] and mof == []
