"""What holds the engine's notifications back: inhibition through agency dependencies,
silences and maintenance windows (one-off and recurring)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alerts.policy import MaintenanceSpec, Policy, RouteSpec, SilenceSpec
from tests.alerts.engine_center import (
    DEPENDS,
    ONCALL,
    T0,
    Center,
    at,
    child,
    events,
    obs,
    only,
    sent,
)

# -- inhibition ----------------------------------------------------------------------------

INHIBITING = Policy(routes=[ONCALL], depends_on=DEPENDS)


def test_a_firing_critical_parent_inhibits_a_later_child_alert() -> None:
    center = Center(INHIBITING)
    center.observe(obs(0))
    change = only(center.observe(child(5)))
    assert sent([change]) == []
    alert = change.alert
    assert alert.state == "firing" and alert.inhibited and alert.suppressed
    assert not alert.notified
    assert alert.flags()["inhibited"]


def test_an_alert_inhibited_from_its_start_records_an_inhibited_event() -> None:
    center = Center(INHIBITING)
    center.observe(obs(0))
    assert "inhibited" in events(center.observe(child(5)))


def test_a_child_already_firing_is_marked_inhibited_when_its_parent_fires() -> None:
    center = Center(INHIBITING)
    center.observe(child(0))
    changes = center.observe(obs(5))
    assert [(c.alert.subject, [e.event for e in c.events]) for c in changes] == [
        ("ngsp-portal", ["pending", "firing"]),
        ("lgsp-nghe-an-portal", ["inhibited"]),
    ]
    assert sent(changes) == [("oncall", "firing", "transition", 5)]
    assert center.alert("lgsp-nghe-an-portal").inhibited


def test_inhibition_follows_dependencies_transitively() -> None:
    policy = Policy(
        routes=[ONCALL],
        depends_on={"dvcqg-nghe-an": ["lgsp-nghe-an"], "lgsp-nghe-an": ["ngsp"]},
    )
    center = Center(policy)
    center.observe(obs(0))
    grandchild = only(
        center.observe(child(5, subject="dvc-nghe-an-portal", agency="dvcqg-nghe-an"))
    )
    assert grandchild.alert.inhibited and sent([grandchild]) == []


def test_when_the_parent_resolves_a_child_still_firing_is_released() -> None:
    center = Center(INHIBITING)
    center.observe(obs(0))
    center.observe(child(5))
    changes = center.observe(obs(300, "ok"))
    assert [(c.alert.subject, [e.event for e in c.events]) for c in changes] == [
        ("ngsp-portal", ["resolved"]),
        ("lgsp-nghe-an-portal", ["uninhibited"]),
    ]
    assert sent(changes[1:]) == [("oncall", "firing", "released", 300)]
    released = changes[1].outgoing[0].notice
    assert released.subject == "lgsp-nghe-an-portal" and released.starts_at == at(5)
    assert center.alert("lgsp-nghe-an-portal").notified
    assert sent(center.observe(child(400, "ok"))) == [("oncall", "resolved", "transition", 400)]


def test_a_child_that_resolves_while_inhibited_sends_nothing_then_or_later() -> None:
    center = Center(INHIBITING)
    center.observe(obs(0))
    center.observe(child(5))
    assert sent(center.observe(child(60, "ok"))) == []
    assert sent(center.observe(obs(300, "ok"))) == [("oncall", "resolved", "transition", 300)]


def test_a_child_notified_before_its_parent_fired_is_not_sent_again() -> None:
    center = Center(INHIBITING)
    center.observe(child(0))
    center.observe(obs(5))
    changes = center.observe(obs(300, "ok"))
    assert events(changes) == ["resolved", "uninhibited"]
    assert sent(changes) == [("oncall", "resolved", "transition", 300)]


def test_a_non_critical_parent_does_not_inhibit() -> None:
    center = Center(INHIBITING)
    center.observe(obs(0, severity="warning"))
    change = only(center.observe(child(5)))
    assert not change.alert.inhibited
    assert sent([change]) == [("oncall", "firing", "transition", 5)]


def test_a_parent_that_is_only_pending_inhibits_too() -> None:
    center = Center(INHIBITING)
    center.observe(obs(0, "pending"))
    change = only(center.observe(child(5)))
    assert change.alert.inhibited and sent([change]) == []
    # The parent's suspicion goes away: the child is told at once.
    changes = center.observe(obs(10, "ok"))
    assert events(changes) == ["cleared", "uninhibited"]
    assert sent(changes) == [("oncall", "firing", "released", 10)]


def test_a_parent_is_not_inhibited_by_its_child() -> None:
    center = Center(INHIBITING)
    center.observe(child(0))
    assert sent(center.observe(obs(5))) == [("oncall", "firing", "transition", 5)]


def test_an_agency_is_not_inhibited_by_its_own_critical_alert() -> None:
    center = Center(INHIBITING)
    center.observe(obs(0))
    change = only(center.observe(obs(5, subject="ngsp-api", severity="warning")))
    assert not change.alert.inhibited
    assert sent([change]) == [("oncall", "firing", "transition", 35)]


# -- silences ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matchers", "silenced"),
    [
        ({"rule": "endpoint-*"}, True),
        ({"rule": "latency-*"}, False),
        ({"subject": "ngsp-*"}, True),
        ({"subject": "lgsp-*"}, False),
        ({"agency": "ngsp"}, True),
        ({"agency": "ngs"}, False),
        ({"severity": "crit*"}, True),
        ({"severity": "warning"}, False),
        ({"kind": "endpoint_down"}, True),
        ({"kind": "latency"}, False),
        ({"rule": "endpoint-down", "subject": "ngsp-portal", "agency": "n?sp"}, True),
        ({"rule": "endpoint-down", "subject": "ngsp-api"}, False),
        ({"agency_kind": "national"}, False),
    ],
)
def test_a_silence_suppresses_alerts_its_matchers_all_match(
    matchers: Mapping[str, str], silenced: bool
) -> None:
    center = Center(Policy(routes=[ONCALL], silences=[SilenceSpec(1, matchers, at(0), at(600))]))
    change = only(center.observe(obs(10)))
    assert change.alert.silenced is silenced
    assert bool(change.outgoing) is not silenced


def test_a_silence_is_not_active_before_its_start_or_from_its_end() -> None:
    silence = SilenceSpec(1, {"subject": "*"}, at(100), at(200))
    center = Center(Policy(routes=[ONCALL], silences=[silence]))
    before = only(center.observe(obs(99)))
    assert not before.alert.silenced and sent([before]) == [("oncall", "firing", "transition", 99)]
    after = Center(Policy(routes=[ONCALL], silences=[silence]))
    assert sent(after.observe(obs(200))) == [("oncall", "firing", "transition", 200)]


def test_a_silence_starting_later_silences_a_firing_alert_at_the_next_tick() -> None:
    silence = SilenceSpec(1, {"subject": "ngsp-portal"}, at(100), at(200))
    policy = Policy(routes=[RouteSpec(("oncall",), repeat_interval=timedelta(seconds=120))])
    center = Center(replace(policy, silences=[silence]))
    center.observe(obs(0))
    assert events(center.tick(100)) == ["silenced"]
    assert center.tick(150) == []  # the repeat due at 120 is held back


def test_when_a_silence_ends_a_still_firing_alert_is_released() -> None:
    silence = SilenceSpec(1, {"subject": "ngsp-portal"}, at(0), at(600))
    center = Center(Policy(routes=[ONCALL], silences=[silence]))
    center.observe(obs(10))
    assert center.tick(599) == []
    changes = center.tick(600)
    assert events(changes) == ["unsilenced"]
    assert sent(changes) == [("oncall", "firing", "released", 600)]
    assert center.tick(660) == []


def test_removing_a_silence_with_set_policy_releases_a_still_firing_alert() -> None:
    silence = SilenceSpec(1, {"agency": "ngsp"}, at(0), at(86400))
    center = Center(Policy(routes=[ONCALL], silences=[silence]))
    center.observe(obs(10))
    center.observe(obs(10, subject="ngsp-api", severity="warning", for_seconds=300))
    changes = center.set_policy(Policy(routes=[ONCALL]), 120)
    assert [(c.alert.subject, [e.event for e in c.events]) for c in changes] == [
        ("ngsp-portal", ["unsilenced"]),
        ("ngsp-api", ["unsilenced"]),
    ]
    # Only the firing one is told; the pending one waits for its own firing.
    assert sent(changes) == [("oncall", "firing", "released", 120)]


def test_adding_a_silence_with_set_policy_silences_open_alerts() -> None:
    center = Center()
    center.observe(obs(0))
    silence = SilenceSpec(7, {"agency": "ngsp"}, at(0), at(3600))
    changes = center.set_policy(Policy(routes=[ONCALL], silences=[silence]), 60)
    assert events(changes) == ["silenced"] and sent(changes) == []
    assert center.alert().silenced


# -- maintenance ---------------------------------------------------------------------------


def test_an_agency_maintenance_window_suppresses_and_its_end_releases() -> None:
    window = MaintenanceSpec(at(0), at(3600), agency="ngsp")
    center = Center(Policy(routes=[ONCALL], maintenance=[window]))
    change = only(center.observe(obs(60)))
    assert change.alert.in_maintenance and change.alert.flags()["maintenance"]
    assert sent([change]) == []
    other = only(center.observe(child(60)))
    assert not other.alert.in_maintenance and len(other.outgoing) == 1
    changes = center.tick(3600)
    assert events(changes) == ["unmaintenance"]
    assert sent(changes) == [("oncall", "firing", "released", 3600)]


def test_an_endpoint_maintenance_window_covers_only_that_endpoint() -> None:
    window = MaintenanceSpec(at(0), at(3600), endpoint="ngsp-portal")
    center = Center(Policy(routes=[ONCALL], maintenance=[window]))
    assert sent(center.observe(obs(60))) == []
    assert center.alert().in_maintenance
    assert len(sent(center.observe(obs(60, subject="ngsp-api")))) == 1
    series = obs(60, rule="kpi", kind="kpi_min", subject="ngsp-portal", subject_type="series")
    assert len(sent(center.observe(series))) == 1


def test_a_daily_recurring_window_suppresses_only_inside_its_hours() -> None:
    # 02:00-03:00 UTC every day, first on 2026-11-20.
    window = MaintenanceSpec(
        datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
        agency="ngsp",
        recurring="daily",
    )
    policy = Policy(routes=[ONCALL], maintenance=[window])
    inside = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    outside = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)
    center = Center(policy)
    assert sent(center.observe(obs((inside - T0).total_seconds()))) == []
    assert center.alert().in_maintenance
    changes = center.tick((datetime(2026, 11, 26, 3, 0, tzinfo=UTC) - T0).total_seconds())
    assert [s[:3] for s in sent(changes)] == [("oncall", "firing", "released")]
    later = Center(policy)
    assert len(sent(later.observe(obs((outside - T0).total_seconds())))) == 1


def test_a_weekly_recurring_window_suppresses_on_its_weekday_only() -> None:
    # Sundays 22:00-23:30 UTC from 2026-11-01 (a Sunday).
    window = MaintenanceSpec(
        datetime(2026, 11, 1, 22, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 23, 30, tzinfo=UTC),
        endpoint="ngsp-portal",
        recurring="weekly",
    )
    policy = Policy(routes=[ONCALL], maintenance=[window])
    sunday = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert sent(Center(policy).observe(obs((sunday - T0).total_seconds()))) == []
    assert len(sent(Center(policy).observe(obs((monday - T0).total_seconds())))) == 1
