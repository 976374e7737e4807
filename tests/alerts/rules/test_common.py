"""Selectors, rule specs and the number formatting shared by every summary."""

from __future__ import annotations

import pytest

from alerts.rules import (
    EndpointDownParams,
    LatencyParams,
    NoDataParams,
    RuleSpec,
    Selector,
    SubjectInfo,
    subject_type,
)
from alerts.rules.common import format_number, format_quantity, format_seconds

PORTAL = SubjectInfo("hanoi-portal", "endpoint", "hanoi", "province")
GATEWAY = SubjectInfo("ngsp-gateway", "endpoint", "ngsp", "platform")


def test_an_empty_selector_matches_everything() -> None:
    assert Selector().matches(PORTAL)
    assert Selector().matches(SubjectInfo("orphan", "series"))


def test_ids_match_exactly_or_as_globs() -> None:
    assert Selector(ids=("hanoi-portal",)).matches(PORTAL)
    assert Selector(ids=("hanoi-*",)).matches(PORTAL)
    assert Selector(ids=("*-gateway", "hanoi-p?rtal")).matches(PORTAL)
    assert not Selector(ids=("hanoi",)).matches(PORTAL)
    assert not Selector(ids=("*-gateway",)).matches(PORTAL)


def test_every_given_dimension_must_match() -> None:
    selector = Selector(ids=("*-portal",), agency_kinds=("province",))
    assert selector.matches(PORTAL)
    assert not selector.matches(SubjectInfo("mof-portal", "endpoint", "mof", "ministry"))
    assert Selector(agencies=("ngsp", "mof")).matches(GATEWAY)
    assert not Selector(agencies=("ngsp",)).matches(PORTAL)


def test_a_subject_without_an_agency_never_matches_an_agency_selector() -> None:
    assert not Selector(agencies=("hanoi",)).matches(SubjectInfo("x", "series"))


def test_the_subject_type_follows_the_kind_and_no_data_chooses() -> None:
    assert subject_type("latency") == "endpoint"
    assert subject_type("volume_drop") == "series"
    assert subject_type("no_data", NoDataParams(subject="endpoint")) == "endpoint"
    assert subject_type("no_data", NoDataParams()) == "series"


def test_a_spec_refuses_params_of_another_kind() -> None:
    with pytest.raises(TypeError, match="LatencyParams"):
        RuleSpec("slow", "latency", "warning", Selector(), 0, EndpointDownParams())
    spec = RuleSpec("slow", "latency", "warning", Selector(), 60, LatencyParams(800))
    assert spec.subject_type == "endpoint"


@pytest.mark.parametrize(
    ("value", "text"),
    [(1234567.0, "1,234,567"), (15.9, "15.9"), (99.456, "99.46"), (0.0123, "0.0123"), (3, "3")],
)
def test_numbers_in_summaries_are_short(value: float, text: str) -> None:
    assert format_number(value) == text


def test_quantities_carry_their_unit() -> None:
    assert format_quantity(15.9, "%") == "15.9 %"
    assert format_quantity(42, "") == "42"


@pytest.mark.parametrize(
    ("seconds", "text"), [(300, "5m"), (5400, "1h30m"), (604800, "7d"), (0.25, "250ms")]
)
def test_durations_in_summaries_read_like_the_config(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text
