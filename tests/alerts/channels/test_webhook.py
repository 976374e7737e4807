"""Webhook channel: Alertmanager webhook JSON, HMAC-signed when a secret is set."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from alerts.channels import DeliveryError
from alerts.channels.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    fingerprint,
    sign,
    verify_signature,
    webhook_body,
)
from tests.alerts.channels.samples import ENDED, SUMMARY_VI, firing, resolved
from tests.receivers import Receiver, Reply

NOW = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
SECRET = "whsec-5up3r"


def test_the_body_follows_alertmanager_webhook_version_4() -> None:
    body = webhook_body(firing(), receiver="ops", now=NOW)
    assert body["version"] == "4"
    assert body["status"] == "firing"
    assert body["receiver"] == "ops"
    assert body["truncatedAlerts"] == 0
    assert body["groupLabels"] == {"alertname": "endpoint-down", "subject": "nghean-portal"}
    assert body["groupKey"] == '{}:{alertname="endpoint-down", subject="nghean-portal"}'
    assert body["externalURL"] == "https://monitor.example.gov.vn"
    assert body["commonLabels"] == body["alerts"][0]["labels"]
    assert body["commonAnnotations"] == body["alerts"][0]["annotations"]
    assert len(body["alerts"]) == 1


def test_an_alert_carries_rule_and_subject_in_its_labels() -> None:
    (alert,) = webhook_body(firing(), receiver="ops", now=NOW)["alerts"]
    assert alert["labels"] == {
        "alertname": "endpoint-down",
        "rule": "endpoint-down",
        "subject": "nghean-portal",
        "severity": "critical",
        "kind": "endpoint_down",
        "agency": "nghean",
        "agency_kind": "province",
        "team": "noc",
    }
    assert alert["status"] == "firing"
    assert alert["generatorURL"] == "https://monitor.example.gov.vn/alerts/42"


def test_annotations_hold_summary_description_value_and_reason() -> None:
    (alert,) = webhook_body(firing(), receiver="ops", now=NOW)["alerts"]
    notes = alert["annotations"]
    assert notes["summary"] == SUMMARY_VI
    assert notes["value"] == "3"
    assert notes["reason"] == "transition"
    assert "endpoint-down" in notes["description"]
    assert "nghean" in notes["description"]


def test_a_firing_alert_has_go_zero_time_as_its_end() -> None:
    (alert,) = webhook_body(firing(), receiver="ops", now=NOW)["alerts"]
    assert alert["startsAt"] == "2024-05-01T01:02:03Z"
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"


def test_a_resolved_alert_ends_when_it_ended() -> None:
    body = webhook_body(resolved(), receiver="ops", now=NOW)
    assert body["status"] == body["alerts"][0]["status"] == "resolved"
    assert body["alerts"][0]["endsAt"] == "2024-05-01T01:09:30Z"


def test_a_resolved_alert_without_an_end_time_ends_now() -> None:
    (alert,) = webhook_body(resolved(ends_at=None), receiver="ops", now=NOW)["alerts"]
    assert alert["endsAt"] == "2024-05-01T02:00:00Z"


def test_no_value_means_no_value_annotation_and_no_link_means_empty_urls() -> None:
    body = webhook_body(firing(value=None, url=None), receiver="ops", now=NOW)
    assert "value" not in body["alerts"][0]["annotations"]
    assert body["alerts"][0]["generatorURL"] == body["externalURL"] == ""


def test_the_fingerprint_is_stable_and_depends_only_on_labels() -> None:
    first = webhook_body(firing(), receiver="a", now=NOW)["alerts"][0]["fingerprint"]
    again = webhook_body(resolved(summary="other"), receiver="b", now=NOW)["alerts"][0]
    assert first == again["fingerprint"]
    assert len(first) == 16
    assert fingerprint({"a": "1", "b": "2"}) == fingerprint({"b": "2", "a": "1"})
    assert fingerprint({"a": "1"}) != fingerprint({"a": "2"})


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", b"1714500000.{}", hashlib.sha256).hexdigest()
    assert sign("k", 1714500000, b"{}") == f"sha256={expected}"


def test_a_signature_verifies_only_with_the_right_secret_body_and_fresh_time() -> None:
    header = sign(SECRET, 1000, b"body")
    assert verify_signature(SECRET, "1000", b"body", header, now=1000)
    assert verify_signature(SECRET, 1000, b"body", header, now=1299)
    assert not verify_signature("wrong", "1000", b"body", header, now=1000)
    assert not verify_signature(SECRET, "1000", b"bodY", header, now=1000)
    assert not verify_signature(SECRET, "1001", b"body", header, now=1000)
    assert not verify_signature(SECRET, "1000", b"body", header, now=1301)
    assert not verify_signature(SECRET, "soon", b"body", header, now=1000)
    assert not verify_signature(SECRET, "1000", b"body", None, now=1000)
    assert not verify_signature(SECRET, None, b"body", header, now=1000)


async def test_a_notice_arrives_as_the_webhook_body() -> None:
    async with Receiver() as receiver:
        await WebhookChannel("ops", receiver.url + "/alerts").send(firing(), timeout=5)
        (request,) = await receiver.wait_for_requests(1)
    assert (request.method, request.path) == ("POST", "/alerts")
    assert request.headers["Content-Type"].startswith("application/json")
    assert SIGNATURE_HEADER not in request.headers
    assert request.json["receiver"] == "ops"
    assert request.json["alerts"][0]["labels"]["subject"] == "nghean-portal"
    assert request.json["alerts"][0]["annotations"]["summary"] == SUMMARY_VI


async def test_a_signed_notice_verifies_with_the_secret_and_not_with_another() -> None:
    async with Receiver() as receiver:
        channel = WebhookChannel("ops", receiver.url, secret=SECRET, clock=lambda: 1714525200.7)
        await channel.send(resolved(), timeout=5)
        (request,) = await receiver.wait_for_requests(1)
    stamp = request.headers[TIMESTAMP_HEADER]
    header = request.headers[SIGNATURE_HEADER]
    assert stamp == "1714525200"
    assert verify_signature(SECRET, stamp, request.body, header, now=1714525201)
    assert not verify_signature("whsec-guess", stamp, request.body, header, now=1714525201)
    assert json.loads(request.body)["alerts"][0]["endsAt"] == ENDED.isoformat().replace(
        "+00:00", "Z"
    )


async def test_the_webhook_secret_never_appears_in_errors_or_the_description() -> None:
    async with Receiver() as receiver:
        receiver.script(Reply(400, body=f"bad signature for {SECRET}".encode()))
        channel = WebhookChannel("ops", receiver.url, secret=SECRET)
        with pytest.raises(DeliveryError) as caught:
            await channel.send(firing(), timeout=5)
    assert SECRET not in str(caught.value)
    assert SECRET not in channel.describe()
    assert channel.describe() == f"webhook {receiver.url} (signed)"
