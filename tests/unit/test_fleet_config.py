"""The bundled agency list and the YAML config generated for the simulated fleet."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any, TypedDict

import pytest
import yaml

from monitor_center.config import JsonSource, PrometheusSource, parse_config_text
from monitor_center.config.rules import KpiMinRule, VolumeDropRule
from monitor_center.demo.agencies import AgencyInfo, load_agencies, parse_agencies_csv
from monitor_center.demo.fleet import FleetSimulator, SimEndpoint
from monitor_center.demo.fleet_config import fleet_config_yaml
from monitor_center.demo.history import maintenance_entries


class Tokens(TypedDict):
    viewer_token: str
    operator_token: str
    admin_token: str


TOKENS: Tokens = {"viewer_token": "v-token", "operator_token": "o-token", "admin_token": "a-token"}


def generate(agencies: list[AgencyInfo], interval: str = "10s", timeout: str = "5s") -> str:
    endpoints = FleetSimulator(agencies).endpoints("http://fleet.test:8080")
    return fleet_config_yaml(endpoints, agencies, **TOKENS, interval=interval, timeout=timeout)


def agency_entries(text: str) -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in yaml.safe_load(text)["agencies"]}


@pytest.fixture(scope="module")
def full_text() -> str:
    """The config for the whole bundled fleet (generated once: PyYAML is slow)."""
    return generate(load_agencies())


@pytest.fixture(scope="module")
def full_config(full_text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load(full_text)
    return parsed


def test_bundled_list_has_56_agencies_by_kind() -> None:
    agencies = load_agencies()
    assert len(agencies) == 56
    assert Counter(a.kind for a in agencies) == {"platform": 5, "ministry": 17, "province": 34}
    assert len({a.id for a in agencies}) == 56


def test_bundled_list_keeps_vietnamese_diacritics() -> None:
    names = {a.id: a.name_vi for a in load_agencies()}
    assert names["nghe-an"] == "Nghệ An"
    assert names["ha-noi"] == "Hà Nội"
    assert names["ho-chi-minh"] == "Thành phố Hồ Chí Minh"
    assert names["ngsp"] == "Nền tảng tích hợp, chia sẻ dữ liệu quốc gia"


def test_provinces_have_coordinates_and_national_bodies_do_not() -> None:
    for agency in load_agencies():
        located = agency.lat is not None and agency.lon is not None
        assert located == (agency.kind == "province"), agency.id
    hanoi = next(a for a in load_agencies() if a.id == "ha-noi")
    assert (hanoi.lat, hanoi.lon) == (21.0285, 105.8542)


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ("x,county,X,X,,", "kind"),
        (",province,X,X,1,2", "missing id"),
        ("x,province,X,X,north,2", "lat"),
    ],
)
def test_malformed_agency_row_is_rejected_naming_line_and_field(row: str, named: str) -> None:
    with pytest.raises(ValueError, match=f"line 2: .*{named}"):
        parse_agencies_csv(f"id,kind,name_en,name_vi,lat,lon\n{row}\n")


def test_config_parses_with_every_agency_endpoint_and_the_demo_rules() -> None:
    agencies = load_agencies()
    config = yaml.safe_load(generate(agencies, interval="15s", timeout="3s"))
    assert set(config) == {"center", "auth", "agencies", "endpoints", "rules"}
    assert config["center"]["timezone"] == "Asia/Ho_Chi_Minh"
    assert [a["id"] for a in config["agencies"]] == [a.id for a in agencies]
    assert len(config["endpoints"]) == 61
    assert {(e["interval"], e["timeout"]) for e in config["endpoints"]} == {("15s", "3s")}
    rules = {rule["id"]: rule for rule in config["rules"]}
    assert rules["endpoint-down"] == {
        "id": "endpoint-down",
        "kind": "endpoint_down",
        "severity": "critical",
        "failures": 2,
    }
    assert (rules["slow-portal"]["kind"], rules["slow-portal"]["threshold"]) == ("latency", "2s")
    assert rules["platform-slo"]["match"] == {"agency_kind": "platform"}


def test_config_carries_the_three_role_tokens(full_config: dict[str, Any]) -> None:
    tokens = full_config["auth"]["tokens"]
    assert {(t["role"], t["token"]) for t in tokens} == {
        ("viewer", "v-token"),
        ("operator", "o-token"),
        ("admin", "a-token"),
    }


def test_config_keeps_diacritics_unescaped(full_text: str) -> None:
    assert "Nghệ An" in full_text
    assert "\\u" not in full_text
    assert agency_entries(full_text)["nghe-an"]["name"] == "Nghệ An"


def test_config_expectations_match_what_each_endpoint_serves(full_config: dict[str, Any]) -> None:
    endpoints = {e["id"]: e for e in full_config["endpoints"]}
    assert endpoints["ngsp-api"]["expect"] == {
        "status": [200],
        "json_path": "$.status",
        "equals": "ok",
    }
    assert endpoints["nghe-an-portal"] == {
        "id": "nghe-an-portal",
        "agency": "nghe-an",
        "url": "http://fleet.test:8080/a/nghe-an/",
        "interval": "10s",
        "timeout": "5s",
        "expect": {"status": [200], "body_contains": "Nghệ An"},
    }


def test_agencies_depend_on_the_national_platform(full_text: str) -> None:
    entries = agency_entries(full_text)
    assert entries["ngsp"]["depends_on"] == []
    assert entries["dvcqg"]["depends_on"] == ["ngsp", "csdldc"]
    for entry in entries.values():
        if entry["kind"] in ("ministry", "province"):
            assert entry["depends_on"] == ["ngsp"], entry["id"]


def test_dependencies_only_name_agencies_in_the_config() -> None:
    agencies = [a for a in load_agencies() if a.id in ("dvcqg", "ha-noi")]
    entries = agency_entries(generate(agencies))
    assert entries["dvcqg"]["depends_on"] == []
    assert entries["ha-noi"]["depends_on"] == []


def test_province_entries_have_coordinates_and_platforms_omit_them(full_text: str) -> None:
    entries = agency_entries(full_text)
    assert (entries["nghe-an"]["lat"], entries["nghe-an"]["lon"]) == (18.6796, 105.6813)
    assert "lat" not in entries["ngsp"]
    assert entries["nghe-an"]["name_en"] == "Nghe An"


def test_endpoint_of_an_unlisted_agency_is_rejected() -> None:
    stray = SimEndpoint(id="x-portal", agency_id="x", url="http://fleet.test/a/x/", kind="portal")
    with pytest.raises(ValueError, match="unknown agency 'x'"):
        fleet_config_yaml([stray], load_agencies(), **TOKENS)


# The loader wants tokens of at least 16 characters.
LOADABLE_TOKENS: Tokens = {
    "viewer_token": "v-token-0123456789ab",
    "operator_token": "o-token-0123456789ab",
    "admin_token": "a-token-0123456789ab",
}


def generate_with_series(agencies: list[AgencyInfo]) -> str:
    fleet = FleetSimulator(agencies)
    return fleet_config_yaml(
        fleet.endpoints("http://fleet.test:8080"),
        agencies,
        **LOADABLE_TOKENS,
        series=fleet.series("http://fleet.test:8080"),
        maintenance=maintenance_entries(a.id for a in agencies),
    )


def test_config_with_the_fleets_series_passes_the_real_loader() -> None:
    agencies = load_agencies()
    config = parse_config_text(generate_with_series(agencies), filename="demo.yaml", env={})
    series = {s.id: s for s in config.series}
    assert len(series) == len(FleetSimulator(agencies).series("http://fleet.test"))
    ngsp = series["ngsp-transactions"]
    assert (ngsp.kind, ngsp.unit, ngsp.interval, ngsp.target) == (
        "counter",
        "transactions",
        timedelta(minutes=1),
        7600,
    )
    assert isinstance(ngsp.source, JsonSource)
    assert ngsp.source.path == "$.transactions_total"
    lgsp = series["nghe-an-lgsp-transactions"].source
    assert isinstance(lgsp, PrometheusSource)
    assert (lgsp.metric, lgsp.labels) == ("egov_lgsp_transactions_total", {"agency": "nghe-an"})
    level4 = [s for s in config.series if s.id.endswith("-level4-share")]
    assert len(level4) == 1 + 17 + 34  # national, every ministry, every province
    assert {(s.unit, s.target, s.target_direction) for s in level4} == {("%", 30.0, "min")}
    assert series["dvcqg-level4-share"].interval == timedelta(minutes=5)


def test_series_bring_a_volume_drop_rule_on_ngsp_and_a_kpi_rule_on_level4() -> None:
    config = parse_config_text(generate_with_series(load_agencies()), filename="d.yaml", env={})
    rules = {rule.id: rule for rule in config.rules}
    drop = rules["ngsp-volume-drop"]
    assert isinstance(drop, VolumeDropRule)
    assert drop.match.id == ["ngsp-transactions"]
    assert (drop.drop_percent, drop.min_volume, drop.window) == (50, 50, timedelta(minutes=10))
    kpi = rules["level4-below-target"]
    assert isinstance(kpi, KpiMinRule)
    assert (kpi.match.id, kpi.target) == (["dvcqg-level4-share"], None)  # the series' 30 %
    [window] = config.maintenance
    assert (window.agency, window.recurring) == ("dvcqg", "weekly")
    assert (window.end - window.start, window.start.weekday()) == (timedelta(hours=1), 6)


def test_series_rules_only_name_series_the_fleet_has() -> None:
    agencies = [a for a in load_agencies() if a.id in ("ha-noi", "byt")]
    text = generate_with_series(agencies)
    config = parse_config_text(text, filename="small.yaml", env={})
    assert {s.id for s in config.series} == {
        "ha-noi-lgsp-transactions",
        "ha-noi-level4-share",
        "ha-noi-on-time",
        "byt-level4-share",
    }
    assert {r.kind for r in config.rules} == {"endpoint_down", "latency", "availability"}
    assert config.maintenance == []


def test_series_of_an_unlisted_agency_is_rejected() -> None:
    fleet = FleetSimulator([a for a in load_agencies() if a.id == "ngsp"])
    with pytest.raises(ValueError, match="series 'ngsp-transactions' names unknown agency"):
        fleet_config_yaml([], [], **TOKENS, series=fleet.series("http://fleet.test"))
