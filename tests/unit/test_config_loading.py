"""Loading valid configurations: the sample fleet, includes, ${VAR}, defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import pytest

from monitor_center.config import (
    Agency,
    Channel,
    Config,
    Endpoint,
    Expect,
    JsonSource,
    PrometheusSource,
    Route,
    RouteMatch,
    load_config,
    parse_config_text,
)
from monitor_center.config.rules import EndpointDownRule, KpiMinRule
from tests.unit.config_fixtures import CONFIGS, SECRETS

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def sample() -> Config:
    return load_config(CONFIGS / "valid.yaml", SECRETS)


def parse(text: str, env: dict[str, str] | None = None) -> Config:
    return parse_config_text(dedent(text), filename="fleet.yaml", env=env or {})


def test_the_sample_fleet_has_a_platform_a_province_depending_on_it_and_a_ministry(
    sample: Config,
) -> None:
    assert [(a.id, a.kind, a.depends_on) for a in sample.agencies] == [
        ("ngsp", "platform", []),
        ("hanoi", "province", ["ngsp"]),
        ("mof", "ministry", []),
    ]
    assert sample.agency("hanoi") == Agency(
        id="hanoi",
        name="UBND Thành phố Hà Nội",
        name_en="Hanoi People's Committee",
        kind="province",
        depends_on=["ngsp"],
        lat=21.0285,
        lon=105.8542,
    )


def test_the_sample_endpoints_carry_their_probe_settings(sample: Config) -> None:
    assert sample.endpoint("ngsp-gateway") == Endpoint(
        id="ngsp-gateway",
        agency="ngsp",
        url="https://ngsp.gov.vn/health",
        interval=timedelta(seconds=30),
        timeout=timedelta(seconds=5),
        expect=Expect(status=[200], json_path="$.status", equals="UP"),
    )
    portal = sample.endpoint("hanoi-portal")
    assert portal is not None
    assert portal.interval == timedelta(minutes=1)
    assert portal.expect.body_contains == "Dịch vụ công"
    lgsp = sample.endpoint("hanoi-lgsp")
    assert lgsp is not None
    assert lgsp.retry_interval == timedelta(seconds=5)
    assert [e.agency for e in sample.endpoints] == ["ngsp", "hanoi", "hanoi", "mof"]


def test_the_sample_series_are_a_prometheus_counter_and_a_json_gauge_with_target(
    sample: Config,
) -> None:
    counter, gauge = sample.series
    assert (counter.kind, counter.interval, counter.target) == (
        "counter",
        timedelta(minutes=5),
        None,
    )
    assert counter.source == PrometheusSource(
        type="prometheus",
        url="https://prometheus.hanoi.gov.vn",
        metric="dvc_dossiers_received_total",
        labels={"province": "hanoi"},
    )
    assert (gauge.kind, gauge.unit, gauge.target, gauge.target_direction) == (
        "gauge",
        "%",
        30,
        "min",
    )
    assert gauge.source == JsonSource(
        type="json", url="https://dichvucong.hanoi.gov.vn/api/kpi", path="$.online_rate"
    )


def test_the_sample_alerting_has_a_rule_a_webhook_with_secret_and_a_route(sample: Config) -> None:
    down, low = sample.rules
    assert isinstance(down, EndpointDownRule) and isinstance(low, KpiMinRule)
    assert (down.kind, down.severity, down.failures, down.recoveries) == (
        "endpoint_down",
        "critical",
        3,
        1,
    )
    assert low.match.id == ["hanoi-online-rate"]
    [webhook] = sample.channels
    assert isinstance(webhook, Channel)
    assert webhook.url == "https://alerts.monitor.gov.vn/hook"
    assert webhook.secret is not None
    assert webhook.secret.get_secret_value() == SECRETS["WEBHOOK_SECRET"]
    assert sample.routes == [
        Route(
            match=RouteMatch(severity="critical"),
            channels=["ops-webhook"],
            group_wait=timedelta(seconds=10),
            repeat_interval=timedelta(hours=4),
        )
    ]


def test_the_sample_center_auth_and_maintenance(sample: Config) -> None:
    assert sample.center.timezone == "Asia/Ho_Chi_Minh"
    assert sample.center.allowed_origins == ["https://monitor.gov.vn"]
    assert [(t.name, t.role, t.agency) for t in sample.auth.tokens] == [
        ("video-wall", "viewer", None),
        ("hanoi-operator", "operator", "hanoi"),
    ]
    assert sample.auth.tokens[0].token.get_secret_value() == SECRETS["WALL_TOKEN"]
    [window] = sample.maintenance
    assert (window.agency, window.start, window.end) == (
        "mof",
        datetime(2025, 6, 1, 1, tzinfo=VN),
        datetime(2025, 6, 1, 3, tzinfo=VN),
    )


def test_a_minimal_file_uses_the_documented_defaults() -> None:
    config = parse("""\
        agencies: [{id: ngsp, name: NGSP, kind: platform}]
        endpoints: [{id: portal, agency: ngsp, url: "https://ngsp.gov.vn/"}]
        """)
    assert config.center.name == "National e-Government Monitoring Center"
    assert config.center.timezone == "Asia/Ho_Chi_Minh"
    assert config.center.metrics_token is None
    [portal] = config.endpoints
    assert (portal.interval, portal.timeout, portal.retry_interval) == (
        timedelta(seconds=60),
        timedelta(seconds=10),
        None,
    )
    assert portal.max_body_bytes == 1024 * 1024
    assert (config.series, config.rules, config.channels, config.routes) == ([], [], [], [])


def test_sections_left_empty_count_as_empty_lists() -> None:
    config = parse("center: {name: Test}\nendpoints:\nrules:\n")
    assert config.endpoints == []
    assert config.rules == []


def test_a_short_interval_shrinks_the_default_timeout_instead_of_failing() -> None:
    config = parse("""\
        agencies: [{id: ngsp, name: NGSP, kind: platform}]
        endpoints: [{id: portal, agency: ngsp, url: "https://ngsp.gov.vn/", interval: 5s}]
        """)
    assert config.endpoints[0].timeout == timedelta(seconds=5)


def test_endpoint_down_rules_default_to_three_failures_and_one_recovery() -> None:
    config = parse("rules: [{id: down, kind: endpoint_down}]\n")
    [down] = config.rules
    assert isinstance(down, EndpointDownRule)
    assert (down.failures, down.recoveries) == (3, 1)


def test_variables_expand_before_type_validation() -> None:
    env = {"IV": "30s", "MAX": "2048", "HOST": "ngsp.gov.vn"}
    config = parse(
        """\
        agencies: [{id: ngsp, name: NGSP, kind: platform}]
        endpoints:
          - id: portal
            agency: ngsp
            url: https://${HOST}/health
            interval: ${IV}
            max_body_bytes: ${MAX}
        """,
        env,
    )
    [portal] = config.endpoints
    assert (portal.url, portal.interval, portal.max_body_bytes) == (
        "https://ngsp.gov.vn/health",
        timedelta(seconds=30),
        2048,
    )


def test_a_double_dollar_gives_a_literal_reference() -> None:
    config = parse("center: {name: 'costs $$5 and $${NOT_A_VAR}'}\n")
    assert config.center.name == "costs $$5 and ${NOT_A_VAR}"


def test_split_files_append_their_lists_in_include_order() -> None:
    config = load_config(CONFIGS / "split" / "main.yaml", {})
    assert config.center.name == "Split Center"
    assert [a.id for a in config.agencies] == ["ngsp", "hanoi"]
    assert [e.id for e in config.endpoints] == ["ngsp-gateway", "hanoi-portal"]
    assert [r.id for r in config.rules] == ["portal-down"]
    assert config.routes[0].match is None


def test_includes_resolve_relative_to_the_text_filename(tmp_path: Path) -> None:
    (tmp_path / "agencies.yaml").write_text("agencies: [{id: mof, name: MOF, kind: ministry}]\n")
    config = parse_config_text(
        "include: agencies.yaml\n", filename=str(tmp_path / "fleet.yaml"), env={}
    )
    assert [a.kind for a in config.agencies] == ["ministry"]


def test_a_glob_matching_no_file_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text("include: ['conf.d/*.yaml']\ncenter: {name: X}\n")
    assert load_config(tmp_path / "fleet.yaml", {}).center.name == "X"


def test_yaml_anchors_and_merge_keys_share_probe_settings() -> None:
    config = parse("""\
        agencies: [{id: ngsp, name: NGSP, kind: platform}]
        endpoints:
          - &probe {id: a, agency: ngsp, url: "https://a.gov.vn/", interval: 20s}
          - <<: *probe
            id: b
            url: https://b.gov.vn/
        """)
    assert [(e.id, e.url, e.interval) for e in config.endpoints] == [
        ("a", "https://a.gov.vn/", timedelta(seconds=20)),
        ("b", "https://b.gov.vn/", timedelta(seconds=20)),
    ]


def test_maintenance_times_without_offset_are_in_the_center_time_zone() -> None:
    config = parse("""\
        center: {timezone: UTC}
        agencies: [{id: ngsp, name: NGSP, kind: platform}]
        maintenance:
          - {agency: ngsp, start: "2025-06-01 01:00", end: "2025-06-01T02:00:00"}
        """)
    window = config.maintenance[0]
    assert window.start == datetime(2025, 6, 1, 1, tzinfo=UTC)
    assert window.end.utcoffset() == timedelta(0)


def test_a_telegram_chat_id_written_as_a_number_is_kept_as_text() -> None:
    config = parse(
        "channels: [{id: tg, kind: telegram, bot_token: '${BOT}', chat_id: -1001234}]\n",
        {"BOT": "123:abc"},
    )
    assert config.channels[0].chat_id == "-1001234"


def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_bytes("\ufeffcenter: {name: Trung tâm}\n".encode())
    assert load_config(path, {}).center.name == "Trung tâm"


def test_a_file_included_twice_is_loaded_once(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text("include: [a.yaml, b.yaml, '*.yaml']\n")
    (tmp_path / "a.yaml").write_text("include: [shared.yaml]\n")
    (tmp_path / "b.yaml").write_text("include: [shared.yaml]\n")
    (tmp_path / "shared.yaml").write_text("agencies: [{id: ngsp, name: NGSP, kind: platform}]\n")
    assert [a.id for a in load_config(tmp_path / "fleet.yaml", {}).agencies] == ["ngsp"]


def test_a_section_left_null_uses_its_defaults() -> None:
    config = parse("center:\nauth:\n")
    assert config.center.name == "National e-Government Monitoring Center"
    assert config.auth.tokens == []
