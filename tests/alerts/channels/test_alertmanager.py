"""Alertmanager channel: forward to an existing Alertmanager's /api/v2/alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.channels import DeliveryError
from alerts.channels.alertmanager import AlertmanagerChannel, alertmanager_body
from tests.alerts.channels.samples import SUMMARY_VI, firing, resolved
from tests.receivers import Receiver, Reply

NOW = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)


def test_a_firing_alert_has_labels_annotations_start_and_no_end() -> None:
    (alert,) = alertmanager_body(firing(), now=NOW)
    assert alert["labels"]["rule"] == alert["labels"]["alertname"] == "endpoint-down"
    assert alert["labels"]["subject"] == "nghean-portal"
    assert alert["annotations"]["summary"] == SUMMARY_VI
    assert alert["startsAt"] == "2024-05-01T01:02:03Z"
    assert alert["generatorURL"] == "https://monitor.example.gov.vn/alerts/42"
    assert "endsAt" not in alert


def test_a_resolved_alert_ends_when_it_ended() -> None:
    (alert,) = alertmanager_body(resolved(), now=NOW)
    assert alert["endsAt"] == "2024-05-01T01:09:30Z"


def test_a_resolved_alert_without_end_or_ending_in_the_future_ends_now() -> None:
    assert alertmanager_body(resolved(ends_at=None), now=NOW)[0]["endsAt"] == "2024-05-01T02:00:00Z"
    future = resolved(ends_at=NOW + timedelta(minutes=3))
    assert alertmanager_body(future, now=NOW)[0]["endsAt"] == "2024-05-01T02:00:00Z"


def test_no_link_means_no_generator_url() -> None:
    assert "generatorURL" not in alertmanager_body(firing(url=None), now=NOW)[0]


async def test_alerts_are_posted_to_the_v2_api_under_the_base_url() -> None:
    async with Receiver() as receiver:
        channel = AlertmanagerChannel("am", receiver.url + "/am/")
        await channel.send(firing(), timeout=5)
        (request,) = await receiver.wait_for_requests(1)
    assert (request.method, request.path) == ("POST", "/am/api/v2/alerts")
    assert isinstance(request.json, list)
    assert request.json[0]["labels"]["subject"] == "nghean-portal"
    assert channel.describe() == f"alertmanager {receiver.url}/am"


async def test_a_rejected_alert_is_permanent() -> None:
    async with Receiver() as receiver:
        receiver.script(Reply.of_json({"code": 400, "message": "invalid label"}, status=400))
        with pytest.raises(DeliveryError, match="invalid label") as caught:
            await AlertmanagerChannel("am", receiver.url).send(firing(), timeout=5)
    assert caught.value.permanent
