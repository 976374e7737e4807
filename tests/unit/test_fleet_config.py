"""The bundled agency list and the YAML config generated for the simulated fleet."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import yaml

from monitor_center.demo.agencies import AgencyInfo, load_agencies, parse_agencies_csv
from monitor_center.demo.fleet import FleetSimulator, SimEndpoint
from monitor_center.demo.fleet_config import fleet_config_yaml

TOKENS = {"viewer_token": "v-token", "operator_token": "o-token", "admin_token": "a-token"}


def generate(agencies: list[AgencyInfo], **options: str) -> str:
    endpoints = FleetSimulator(agencies).endpoints("http://fleet.test:8080")
    return fleet_config_yaml(endpoints, agencies, **TOKENS, **options)


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
