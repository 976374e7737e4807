"""build_channel: one registry, clear errors, no secrets in descriptions."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest

from alerts.channels import CHANNELS, Channel, DeliveryError, build_channel

VALID: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "webhook": {"url": "https://hooks.example.org/in", "secret": "whsec-s3cr3t"},
        "slack": {"url": "https://hooks.slack.example/services/T0/B0/slacktoken123"},
        "alertmanager": {"url": "http://am.example:9093/"},
        "telegram": {"bot_token": "123456:TOKEN-abcdef", "chat_id": "-100200300"},
        "email": {"to": ["noc@example.gov.vn"], "smtp_host": "smtp.example", "password": "pw-0123"},
    }
)
SECRETS = ("whsec-s3cr3t", "slacktoken123", "TOKEN-abcdef", "pw-0123")


def test_every_kind_of_the_contract_is_registered() -> None:
    assert set(CHANNELS) == {"webhook", "email", "telegram", "slack", "alertmanager"}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_channel_is_built_from_its_settings(kind: str) -> None:
    channel: Channel = build_channel(kind, "ops", VALID[kind])
    assert (channel.kind, channel.channel_id) == (kind, "ops")


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_description_names_the_destination_but_no_secret(kind: str) -> None:
    described = build_channel(kind, "ops", VALID[kind]).describe()
    assert described.startswith(kind)
    assert not [secret for secret in SECRETS if secret in described]


@pytest.mark.parametrize("kind", sorted(VALID))
def test_unknown_keys_are_ignored(kind: str) -> None:
    build_channel(kind, "ops", {**VALID[kind], "id": "ops", "kind": kind, "flavour": "x"})


def test_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown kind 'pager'.*webhook"):
        build_channel("pager", "ops", {})


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        ("webhook", "url"),
        ("slack", "url"),
        ("alertmanager", "url"),
        ("telegram", "bot_token"),
        ("telegram", "chat_id"),
        ("email", "to"),
        ("email", "smtp_host"),
    ],
)
def test_a_missing_setting_is_named_with_the_kind(kind: str, missing: str) -> None:
    settings = {k: v for k, v in VALID[kind].items() if k != missing}
    with pytest.raises(ValueError, match=rf"{kind} channel 'ops': missing .*'{missing}'"):
        build_channel(kind, "ops", settings)


def test_an_empty_value_counts_as_missing() -> None:
    with pytest.raises(ValueError, match="'bot_token'"):
        build_channel("telegram", "ops", {"bot_token": "", "chat_id": "1"})


def test_a_url_must_be_http_and_is_not_echoed() -> None:
    with pytest.raises(ValueError, match="must be an http") as caught:
        build_channel("webhook", "ops", {"url": "ftp://user:hunter2@example.org/"})
    assert "hunter2" not in str(caught.value)


def test_a_numeric_telegram_chat_id_is_accepted() -> None:
    channel = build_channel("telegram", "ops", {"bot_token": "1:x", "chat_id": -100200300})
    assert "-100200300" in channel.describe()


@pytest.mark.parametrize(
    ("settings", "port"),
    [
        ({}, 25),
        ({"starttls": True}, 587),
        ({"starttls": "true"}, 587),
        ({"starttls": True, "smtp_port": 2525}, 2525),
        ({"smtp_port": "465"}, 465),
    ],
)
def test_the_smtp_port_defaults_to_25_or_587_with_starttls(
    settings: dict[str, Any], port: int
) -> None:
    channel = build_channel("email", "mail", {"to": "a@example.org", "smtp_host": "mx", **settings})
    assert f"via mx:{port}" in channel.describe()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"to": [], "smtp_host": "mx"}, "missing required setting 'to'"),
        ({"to": ["a@x", 3], "smtp_host": "mx"}, "'to' must be a list"),
        ({"to": ["a@x"], "smtp_host": "mx", "smtp_port": 70000}, "'smtp_port' must be a port"),
        ({"to": ["a@x"], "smtp_host": "mx", "starttls": "maybe"}, "'starttls' must be true"),
    ],
)
def test_bad_email_settings_are_explained(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_channel("email", "mail", settings)


def test_the_package_re_exports_the_error() -> None:
    error = DeliveryError("x", permanent=True, status=404)
    assert (error.permanent, error.status, error.retry_after) == (True, 404, None)
