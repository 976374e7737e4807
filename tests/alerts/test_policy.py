"""The policy on its own: which routes match, when a silence or a maintenance window
holds an alert back, and which agencies an outage upstream explains."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from alerts.model import Alert
from alerts.policy import (
    DEFAULT_GROUP_WAIT,
    DEFAULT_REPEAT,
    MaintenanceSpec,
    Policy,
    RouteSpec,
    SilenceSpec,
    alert_labels,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def alert(
    *,
    rule: str = "endpoint-down",
    kind: str = "endpoint_down",
    subject: str = "ngsp-portal",
    severity: str = "critical",
    agency: str | None = "ngsp",
    agency_kind: str | None = "national",
    subject_type: str = "endpoint",
) -> Alert:
    return Alert(
        rule=rule,
        rule_kind=kind,
        subject=subject,
        severity=severity,
        state="firing",
        started_at=T0,
        updated_at=T0,
        subject_type=subject_type,
        agency=agency,
        agency_kind=agency_kind,
    )


# -- labels and routes ---------------------------------------------------------------------


def test_alert_labels_name_rule_subject_severity_kind_and_agency() -> None:
    assert alert_labels(alert()) == {
        "rule": "endpoint-down",
        "subject": "ngsp-portal",
        "severity": "critical",
        "kind": "endpoint_down",
        "agency": "ngsp",
        "agency_kind": "national",
    }
    assert "agency" not in alert_labels(alert(agency=None, agency_kind=None))


def test_a_route_without_criteria_matches_every_alert() -> None:
    route = RouteSpec(("oncall",))
    assert route.matches(alert())
    assert route.matches(alert(severity="warning", agency=None, agency_kind=None))


@pytest.mark.parametrize(
    ("criteria", "matches"),
    [
        ({"severity": "critical"}, True),
        ({"severity": "warning"}, False),
        ({"agency": "ngsp"}, True),
        ({"agency": "lgsp-nghe-an"}, False),
        ({"agency_kind": "national"}, True),
        ({"agency_kind": "province"}, False),
        ({"kind": "endpoint_down"}, True),
        ({"kind": "latency"}, False),
        ({"rule": "endpoint-down"}, True),
        ({"rule": "endpoint-slow"}, False),
        ({"severity": "critical", "agency": "ngsp", "kind": "endpoint_down"}, True),
        ({"severity": "critical", "agency": "lgsp-nghe-an"}, False),
    ],
)
def test_a_route_matches_only_when_every_criterion_it_sets_matches(
    criteria: Mapping[str, str], matches: bool
) -> None:
    route = RouteSpec(
        ("oncall",),
        severity=criteria.get("severity"),
        agency=criteria.get("agency"),
        agency_kind=criteria.get("agency_kind"),
        kind=criteria.get("kind"),
        rule=criteria.get("rule"),
    )
    assert route.matches(alert()) is matches


def test_a_route_on_an_agency_does_not_match_alerts_without_one() -> None:
    assert not RouteSpec(("oncall",), agency="ngsp").matches(alert(agency=None))


def test_group_wait_is_zero_for_critical_and_thirty_seconds_otherwise_unless_set() -> None:
    route = RouteSpec(("oncall",))
    assert route.wait_for("critical") == timedelta(0)
    assert route.wait_for("warning") == DEFAULT_GROUP_WAIT == timedelta(seconds=30)
    assert route.wait_for("info") == DEFAULT_GROUP_WAIT
    explicit = RouteSpec(("oncall",), group_wait=timedelta(seconds=5))
    assert explicit.wait_for("critical") == explicit.wait_for("warning") == timedelta(seconds=5)
    assert RouteSpec(("x",), group_wait=timedelta(0)).wait_for("warning") == timedelta(0)


def test_the_default_repeat_interval_is_four_hours() -> None:
    assert timedelta(hours=4) == DEFAULT_REPEAT


def test_channels_are_every_matching_routes_each_once_in_config_order() -> None:
    policy = Policy(
        routes=[
            RouteSpec(("email", "chat")),
            RouteSpec(("sms",), severity="warning"),
            RouteSpec(("chat", "pager"), severity="critical"),
            RouteSpec(("email", "national-desk"), agency="ngsp"),
        ]
    )
    assert policy.channels_for(alert()) == ["email", "chat", "pager", "national-desk"]
    assert [r.channels for r in policy.routes_for(alert(severity="warning", agency="x"))] == [
        ("email", "chat"),
        ("sms",),
    ]
    assert Policy().channels_for(alert()) == []


# -- silences ------------------------------------------------------------------------------


def test_a_silence_is_active_from_its_start_until_before_its_end() -> None:
    silence = SilenceSpec(1, {"subject": "*"}, at(0), at(600))
    assert not silence.active(at(-0.001))
    assert silence.active(at(0))
    assert silence.active(at(599.999))
    assert not silence.active(at(600))


@pytest.mark.parametrize(
    ("matchers", "matches"),
    [
        ({}, True),
        ({"rule": "endpoint-down"}, True),
        ({"rule": "endpoint-*"}, True),
        ({"rule": "Endpoint-*"}, False),
        ({"subject": "ngsp-?ortal"}, True),
        ({"subject": "ngsp-[pq]*"}, True),
        ({"subject": "ngsp"}, False),
        ({"agency": "ng*"}, True),
        ({"severity": "warning"}, False),
        ({"kind": "endpoint_*"}, True),
        ({"agency_kind": "nat*"}, True),
        ({"rule": "endpoint-down", "severity": "warning"}, False),
        ({"team": "network"}, False),
    ],
)
def test_a_silence_matches_when_every_glob_matches_its_label(
    matchers: Mapping[str, str], matches: bool
) -> None:
    silence = SilenceSpec(1, matchers, at(0), at(600))
    assert silence.matches(alert_labels(alert())) is matches


def test_a_silence_on_an_agency_does_not_match_alerts_without_one() -> None:
    silence = SilenceSpec(1, {"agency": "ng*"}, at(0), at(600))
    assert not silence.matches(alert_labels(alert(agency=None)))


def test_the_policy_silences_only_with_an_active_matching_silence() -> None:
    policy = Policy(
        silences=[
            SilenceSpec(1, {"agency": "ngsp"}, at(100), at(200)),
            SilenceSpec(2, {"subject": "lgsp-*"}, at(0), at(1000)),
        ]
    )
    assert not policy.silenced(alert(), at(99))
    assert policy.silenced(alert(), at(150))
    assert not policy.silenced(alert(), at(200))
    assert policy.silenced(alert(subject="lgsp-nghe-an-portal", agency="x"), at(500))
    assert not Policy().silenced(alert(), at(0))


# -- maintenance ---------------------------------------------------------------------------


def test_a_one_off_window_covers_from_its_start_until_before_its_end() -> None:
    window = MaintenanceSpec(at(0), at(3600), agency="ngsp")
    assert not window.covers(at(-1))
    assert window.covers(at(0))
    assert window.covers(at(3599))
    assert not window.covers(at(3600))
    assert not window.covers(at(86400 + 60))


DAILY = MaintenanceSpec(
    datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
    datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
    agency="ngsp",
    recurring="daily",
)


@pytest.mark.parametrize(
    ("instant", "covered"),
    [
        (datetime(2026, 11, 19, 2, 30, tzinfo=UTC), False),  # before the first window
        (datetime(2026, 11, 20, 2, 0, tzinfo=UTC), True),
        (datetime(2026, 11, 20, 2, 59, 59, tzinfo=UTC), True),
        (datetime(2026, 11, 20, 3, 0, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 2, 30, tzinfo=UTC), True),
        (datetime(2026, 11, 25, 1, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 3, 1, tzinfo=UTC), False),
        (datetime(2026, 11, 25, 14, 30, tzinfo=UTC), False),
        (datetime(2027, 6, 1, 2, 15, tzinfo=UTC), True),
        # 09:30 in Hanoi is 02:30 UTC: the same instant, whatever the zone.
        (datetime(2026, 11, 25, 9, 30, tzinfo=UTC) - timedelta(hours=7), True),
    ],
)
def test_a_daily_window_covers_the_same_hours_every_day(instant: datetime, covered: bool) -> None:
    assert DAILY.covers(instant) is covered


WEEKLY = MaintenanceSpec(
    datetime(2026, 11, 1, 22, 0, tzinfo=UTC),  # a Sunday
    datetime(2026, 11, 2, 1, 0, tzinfo=UTC),  # across midnight
    endpoint="ngsp-portal",
    recurring="weekly",
)


@pytest.mark.parametrize(
    ("instant", "covered"),
    [
        (datetime(2026, 11, 1, 21, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 8, 22, 0, tzinfo=UTC), True),
        (datetime(2026, 11, 9, 0, 30, tzinfo=UTC), True),  # Monday, still in the window
        (datetime(2026, 11, 9, 1, 0, tzinfo=UTC), False),
        (datetime(2026, 11, 9, 22, 30, tzinfo=UTC), False),  # Monday evening
        (datetime(2026, 11, 14, 23, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), True),
    ],
)
def test_a_weekly_window_covers_the_same_hours_every_week(instant: datetime, covered: bool) -> None:
    assert WEEKLY.covers(instant) is covered


def test_an_agency_window_applies_to_that_agencys_alerts_only() -> None:
    window = MaintenanceSpec(at(0), at(3600), agency="ngsp")
    assert window.applies_to(alert())
    assert window.applies_to(alert(subject="ngsp-kpi", subject_type="series"))
    assert not window.applies_to(alert(agency="lgsp-nghe-an"))
    assert not window.applies_to(alert(agency=None))


def test_an_endpoint_window_applies_to_that_endpoint_only() -> None:
    window = MaintenanceSpec(at(0), at(3600), endpoint="ngsp-portal")
    assert window.applies_to(alert())
    assert window.applies_to(alert(rule="latency-high", kind="latency"))
    assert not window.applies_to(alert(subject="ngsp-api"))
    assert not window.applies_to(alert(subject_type="series"))


def test_the_policy_is_in_maintenance_when_a_window_applies_and_covers() -> None:
    policy = Policy(
        maintenance=[
            MaintenanceSpec(at(0), at(3600), agency="lgsp-nghe-an"),
            MaintenanceSpec(at(7200), at(9000), endpoint="ngsp-portal"),
        ]
    )
    assert not policy.in_maintenance(alert(), at(60))
    assert policy.in_maintenance(alert(agency="lgsp-nghe-an"), at(60))
    assert policy.in_maintenance(alert(), at(7200))
    assert not policy.in_maintenance(alert(), at(9000))


# -- dependencies and inhibition -----------------------------------------------------------

DEPENDENCIES = Policy(
    depends_on={
        "lgsp-nghe-an": ["ngsp"],
        "dvc-nghe-an": ["lgsp-nghe-an", "vneid"],
        "vneid": ["ngsp"],
    }
)


def test_ancestors_follow_dependencies_transitively() -> None:
    assert DEPENDENCIES.ancestors("lgsp-nghe-an") == {"ngsp"}
    assert DEPENDENCIES.ancestors("dvc-nghe-an") == {"lgsp-nghe-an", "vneid", "ngsp"}
    assert DEPENDENCIES.ancestors("ngsp") == set()
    assert DEPENDENCIES.ancestors("unknown") == set()
    assert DEPENDENCIES.ancestors(None) == set()


def test_ancestors_terminate_on_a_dependency_cycle() -> None:
    looped = Policy(depends_on={"a": ["b"], "b": ["c"], "c": ["a"]})
    assert looped.ancestors("a") == {"a", "b", "c"}


def test_an_alert_is_inhibited_while_an_agency_it_depends_on_is_critical() -> None:
    child = alert(subject="dvc-nghe-an-portal", agency="dvc-nghe-an")
    assert DEPENDENCIES.inhibited(child, {"ngsp"})
    assert DEPENDENCIES.inhibited(child, {"vneid"})
    assert DEPENDENCIES.inhibited(child, {"lgsp-nghe-an", "other"})
    assert not DEPENDENCIES.inhibited(child, set())
    assert not DEPENDENCIES.inhibited(child, {"dvc-nghe-an"})
    assert not DEPENDENCIES.inhibited(child, {"lgsp-ha-noi"})


def test_a_parent_and_an_agency_without_dependencies_are_never_inhibited() -> None:
    assert not DEPENDENCIES.inhibited(alert(), {"lgsp-nghe-an", "dvc-nghe-an", "ngsp"})
    assert not DEPENDENCIES.inhibited(alert(agency=None), {"ngsp"})
