"""Behaviour of the models themselves: secrets, lookups, helpers, immutability."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr, ValidationError

from monitor_center.config import (
    Agency,
    Channel,
    Config,
    ConfigError,
    Endpoint,
    Expect,
    RouteMatch,
    load_config,
    parse_config_text,
)
from tests.unit.config_fixtures import CONFIGS, SECRETS


def endpoint(**fields: object) -> Endpoint:
    values: dict[str, object] = {"id": "portal", "agency": "ngsp", "url": "https://a.gov.vn/"}
    return Endpoint.model_validate(values | fields)


def test_repr_and_str_of_a_config_never_reveal_tokens_or_secrets() -> None:
    config = load_config(CONFIGS / "valid.yaml", SECRETS)
    for text in (repr(config), str(config), config.model_dump_json()):
        for secret in SECRETS.values():
            assert secret not in text
    assert "**********" in repr(config)


def test_secret_looking_extra_keys_on_channels_are_hidden() -> None:
    config = parse_config_text(
        "channels:\n"
        "  - {id: s, kind: slack, url: https://hooks.slack.com/x, api_key: sk-very-secret}\n",
        filename="fleet.yaml",
        env={},
    )
    assert "very-secret" not in repr(config)
    extra = config.channels[0].model_extra or {}
    assert isinstance(extra["api_key"], SecretStr)


def test_a_config_error_never_echoes_a_secret_value() -> None:
    text = "auth:\n  tokens: [{name: a, role: admin, token: 98765432109876543210}]\n"
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text, filename="fleet.yaml", env={})
    assert str(caught.value) == "fleet.yaml:2: auth.tokens[0].token: expected a valid string"


def test_an_endpoint_without_listed_statuses_expects_any_2xx() -> None:
    assert endpoint().expected_statuses == frozenset(range(200, 300))
    assert endpoint(expect={"status": [200, 301]}).expected_statuses == frozenset({200, 301})


def test_equals_null_is_a_real_expectation_distinct_from_no_equals() -> None:
    assert Expect(json_path="$.error", equals=None).checks_value
    assert not Expect(json_path="$.error").checks_value


def test_status_codes_must_be_http_codes() -> None:
    with pytest.raises(ValidationError):
        Expect(status=[42])


def test_agencies_and_endpoints_are_found_by_id_or_give_none() -> None:
    ngsp = Agency(id="ngsp", name="NGSP", kind="platform")
    config = Config(agencies=[ngsp], endpoints=[endpoint()])
    assert config.agency("ngsp") is ngsp
    assert config.endpoint("portal") == endpoint()
    assert config.endpoint("nope") is None
    assert config.agency("nope") is None


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        endpoint().interval = timedelta(seconds=1)


def test_a_route_match_selects_alerts_on_every_given_key() -> None:
    match = RouteMatch(severity="critical", agency="hanoi")
    alert = {"severity": "critical", "agency": "hanoi", "kind": "endpoint_down", "rule": "down"}
    assert match.matches(**alert)
    assert not match.matches(**(alert | {"agency": "mof"}))
    assert RouteMatch().matches(**alert)


def test_durations_serialize_back_to_the_text_operators_write() -> None:
    data = endpoint(interval="1h30m", timeout="500ms").model_dump(mode="json")
    assert (data["interval"], data["timeout"]) == ("1h30m", "500ms")


def test_an_email_channel_accepts_one_address_or_a_list() -> None:
    one = Channel.model_validate(
        {"id": "e", "kind": "email", "to": "ops@monitor.gov.vn", "smtp_host": "smtp.gov.vn"}
    )
    assert one.to == ["ops@monitor.gov.vn"]
    with pytest.raises(ValidationError, match="expected an e-mail address"):
        Channel(id="e", kind="email", to=["ops"], smtp_host="smtp.gov.vn")


def test_lookups_follow_a_copy_that_replaces_the_endpoints() -> None:
    config = Config(endpoints=[endpoint()])
    moved = config.model_copy(update={"endpoints": [endpoint(id="moved")]})
    assert moved.endpoint("moved") is not None
    assert moved.endpoint("portal") is None
    assert config.endpoint("portal") is not None


def test_configs_with_the_same_content_are_equal_whatever_was_looked_up() -> None:
    first, second = Config(endpoints=[endpoint()]), Config(endpoints=[endpoint()])
    first.endpoint("portal")
    assert first == second
