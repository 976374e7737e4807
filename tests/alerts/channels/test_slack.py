"""Slack channel: incoming-webhook JSON with a coloured attachment (Mattermost-compatible)."""

from __future__ import annotations

import pytest

from alerts.channels import DeliveryError
from alerts.channels.slack import SlackChannel, slack_body
from tests.alerts.channels.samples import SUMMARY_VI, firing, resolved
from tests.receivers import Receiver, Reply


def test_the_text_is_the_headline_and_the_attachment_holds_the_facts() -> None:
    body = slack_body(firing())
    assert body["text"] == "[FIRING critical] endpoint-down nghean-portal"
    (attachment,) = body["attachments"]
    assert attachment["text"] == SUMMARY_VI
    assert attachment["title_link"] == "https://monitor.example.gov.vn/alerts/42"
    assert attachment["fallback"].startswith(body["text"])
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields["Rule"] == "endpoint-down (endpoint_down)"
    assert fields["Subject"] == "nghean-portal"
    assert fields["Agency"] == "nghean"
    assert fields["Value"] == "3"
    assert fields["Started"] == "2024-05-01 01:02:03+00:00"
    assert attachment["ts"] == 1714525323


@pytest.mark.parametrize(
    ("severity", "colour"),
    [("critical", "#d00000"), ("warning", "#f2a600"), ("info", "#439fe0"), ("page", "#888888")],
)
def test_a_firing_alert_is_coloured_by_severity(severity: str, colour: str) -> None:
    assert slack_body(firing(severity=severity))["attachments"][0]["color"] == colour


def test_a_resolved_alert_is_green_and_shows_its_end() -> None:
    (attachment,) = slack_body(resolved())["attachments"]
    assert attachment["color"] == "#2eb886"
    assert {"title": "Ended", "value": "2024-05-01 01:09:30+00:00", "short": False} in attachment[
        "fields"
    ]


def test_markup_characters_in_values_are_escaped() -> None:
    body = slack_body(firing(summary="<!channel> latency > 5s & rising", subject="a<b>"))
    assert body["attachments"][0]["text"] == "&lt;!channel&gt; latency &gt; 5s &amp; rising"
    assert "a&lt;b&gt;" in body["text"]


async def test_a_notice_arrives_at_the_incoming_webhook() -> None:
    async with Receiver() as receiver:
        await SlackChannel("chat", receiver.url + "/hooks/T0/B0/xyz").send(resolved(), timeout=5)
        (request,) = await receiver.wait_for_requests(1)
    assert (request.method, request.path) == ("POST", "/hooks/T0/B0/xyz")
    assert request.json["text"].startswith("[RESOLVED critical]")
    assert request.json["attachments"][0]["text"] == SUMMARY_VI


async def test_the_hook_path_stays_out_of_errors_and_the_description() -> None:
    async with Receiver() as receiver:
        receiver.script(Reply(404, body=b"no_team"))
        channel = SlackChannel("chat", receiver.url + "/hooks/T0/B0/s3cretpath")
        with pytest.raises(DeliveryError) as caught:
            await channel.send(firing(), timeout=5)
    assert caught.value.permanent
    assert "no_team" in str(caught.value)
    assert "s3cretpath" not in str(caught.value) + channel.describe()
