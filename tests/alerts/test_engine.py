"""The alert engine's lifecycle, driven like Alertmanager's acceptance tests: actions at t
seconds after ``T0`` and the notifications each asks for: pending -> firing -> resolved,
dedup, group_wait, repeats, escalation, acknowledgement."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from alerts.engine import UnknownAlert
from alerts.policy import Policy, RouteSpec, SilenceSpec
from tests.alerts.engine_center import (
    ESCALATING,
    ONCALL,
    Center,
    at,
    events,
    obs,
    only,
    sent,
)

# -- pending -> firing -> resolved ---------------------------------------------------------


def test_a_critical_alert_is_sent_at_once() -> None:
    center = Center()
    change = only(center.observe(obs(0, summary="ngsp-portal down: 3 failed probes")))
    assert change.transition
    assert events([change]) == ["pending", "firing"]
    assert sent([change]) == [("oncall", "firing", "transition", 0)]
    alert = change.alert
    assert (alert.state, alert.fired_at, alert.notified) == ("firing", at(0), True)


def test_an_alert_goes_pending_then_firing_then_resolved_with_events_in_order() -> None:
    center = Center()
    first = center.observe(obs(0, "pending"))
    assert events(first) == ["pending"] and sent(first) == []
    assert center.alert().state == "pending"
    fired = center.observe(obs(10))
    assert events(fired) == ["firing"]
    assert sent(fired) == [("oncall", "firing", "transition", 10)]
    resolved = center.observe(obs(20, "ok"))
    assert events(resolved) == ["resolved"]
    assert sent(resolved) == [("oncall", "resolved", "transition", 20)]
    alert = only(resolved).alert
    assert (alert.state, alert.resolved_at) == ("resolved", at(20))
    assert center.engine.open_alerts() == []
    assert [e.event for c in center.changes for e in c.events if c.alert is alert] == [
        "pending",
        "firing",
        "resolved",
    ]


def test_firing_notifies_each_channel_of_every_matching_route_once() -> None:
    policy = Policy(
        routes=[
            RouteSpec(("oncall", "chat")),
            RouteSpec(("chat", "email"), severity="critical"),
            RouteSpec(("sms",), severity="warning"),
            RouteSpec(("provinces",), agency="lgsp-nghe-an"),
            RouteSpec(("email", "national"), agency="ngsp"),
        ]
    )
    change = only(Center(policy).observe(obs(0)))
    assert [o.channel_id for o in change.outgoing] == ["oncall", "chat", "email", "national"]


def test_a_resolution_goes_to_the_channels_the_firing_went_to() -> None:
    policy = Policy(routes=[RouteSpec(("oncall", "chat")), RouteSpec(("chat", "email"))])
    center = Center(policy)
    fired = center.observe(obs(0))
    resolved = center.observe(obs(60, "ok"))
    assert [s[0] for s in sent(resolved)] == [s[0] for s in sent(fired)]
    assert [s[1:] for s in sent(resolved)] == [("resolved", "transition", 60)] * 3


def test_a_resolution_is_not_sent_when_the_firing_was_not() -> None:
    silence = SilenceSpec(1, {"subject": "ngsp-*"}, at(0), at(3600))
    center = Center(Policy(routes=[ONCALL], silences=[silence]))
    assert sent(center.observe(obs(0))) == []
    resolved = center.observe(obs(60, "ok"))
    assert events(resolved) == ["resolved"] and sent(resolved) == []


def test_a_resolution_reaches_those_told_of_the_firing_even_under_a_later_silence() -> None:
    center = Center()
    center.observe(obs(0))
    silence = SilenceSpec(3, {"subject": "ngsp-portal"}, at(30), at(3600))
    center.set_policy(Policy(routes=[ONCALL], silences=[silence]), 30)
    assert center.alert().silenced
    assert sent(center.observe(obs(60, "ok"))) == [("oncall", "resolved", "transition", 60)]


def test_a_resolution_goes_to_the_channels_told_of_the_firing_after_a_route_change() -> None:
    center = Center(Policy(routes=[RouteSpec(("oncall",))]))
    center.observe(obs(0))
    center.set_policy(Policy(routes=[RouteSpec(("chat",))]), 30)
    assert sent(center.observe(obs(60, "ok"))) == [("oncall", "resolved", "transition", 60)]


def test_a_pending_alert_that_clears_sends_nothing_and_records_cleared() -> None:
    center = Center()
    center.observe(obs(0, "pending"))
    change = only(center.observe(obs(10, "ok")))
    assert events([change]) == ["cleared"] and sent([change]) == []
    assert change.transition and change.alert.state == "resolved"
    assert change.alert.fired_at is None
    assert center.engine.open_alerts() == []


def test_an_ok_observation_without_an_open_alert_changes_nothing() -> None:
    assert Center().observe(obs(0, "ok")) == []


def test_for_seconds_holds_an_active_condition_pending_until_it_has_lasted() -> None:
    center = Center()
    first = center.observe(obs(0, for_seconds=60))
    assert events(first) == ["pending"] and sent(first) == []
    assert center.observe(obs(30, for_seconds=60)) == []
    assert center.observe(obs(59.9, for_seconds=60)) == []
    assert center.alert().state == "pending"
    fired = center.observe(obs(60, for_seconds=60))
    assert events(fired) == ["firing"]
    assert sent(fired) == [("oncall", "firing", "transition", 60)]


def test_an_active_condition_that_clears_within_for_seconds_never_fires() -> None:
    center = Center()
    center.observe(obs(0, for_seconds=60))
    assert events(center.observe(obs(30, "ok", for_seconds=60))) == ["cleared"]
    assert sent(center.changes) == []


def test_for_seconds_counts_from_when_the_condition_became_active() -> None:
    center = Center()
    center.observe(obs(0, "pending", for_seconds=60))  # 1 of 3 failed probes
    center.observe(obs(20, "pending", for_seconds=60))
    center.observe(obs(40, for_seconds=60))  # proven: active from now on
    assert center.observe(obs(60, for_seconds=60)) == []  # active for 20 s only
    assert events(center.observe(obs(100, for_seconds=60))) == ["firing"]


def test_an_alert_after_a_resolution_is_a_new_alert() -> None:
    center = Center()
    first = only(center.observe(obs(0))).alert
    center.observe(obs(10, "ok"))
    second = only(center.observe(obs(20))).alert
    assert second is not first and second.id != first.id
    assert events(center.changes[-1:]) == ["pending", "firing"]


# -- dedup ---------------------------------------------------------------------------------


def test_repeated_active_observations_on_a_firing_alert_change_nothing() -> None:
    center = Center()
    center.observe(obs(0, value=3))
    for t in range(10, 600, 10):
        assert center.observe(obs(t, value=float(t))) == []
        assert center.observe(obs(t + 1, "pending")) == []
    assert len(center.engine.open_alerts()) == 1
    assert center.alert().value == 590.0


def test_one_rule_on_two_subjects_makes_two_alerts() -> None:
    center = Center()
    center.observe(obs(0, subject="ngsp-portal"))
    center.observe(obs(0, subject="ngsp-api"))
    assert sorted(a.subject for a in center.engine.open_alerts()) == ["ngsp-api", "ngsp-portal"]
    assert len(sent(center.changes)) == 2


# -- group_wait ----------------------------------------------------------------------------


def test_a_warning_alert_waits_thirty_seconds_by_default() -> None:
    change = only(Center().observe(obs(100, severity="warning")))
    assert sent([change]) == [("oncall", "firing", "transition", 130)]


def test_an_explicit_group_wait_is_respected() -> None:
    policy = Policy(
        routes=[
            RouteSpec(("pager",), severity="critical", group_wait=timedelta(seconds=10)),
            RouteSpec(("chat",), severity="warning", group_wait=timedelta(0)),
        ]
    )
    center = Center(policy)
    assert sent(center.observe(obs(0))) == [("pager", "firing", "transition", 10)]
    warning = obs(5, subject="ngsp-api", severity="warning")
    assert sent(center.observe(warning)) == [("chat", "firing", "transition", 5)]


def test_a_channel_in_two_routes_is_due_at_the_first_routes_wait() -> None:
    policy = Policy(
        routes=[
            RouteSpec(("chat",), group_wait=timedelta(seconds=5)),
            RouteSpec(("chat", "email"), group_wait=timedelta(seconds=60)),
        ]
    )
    assert sent(Center(policy).observe(obs(0))) == [
        ("chat", "firing", "transition", 5),
        ("email", "firing", "transition", 60),
    ]


# -- repeat_interval -----------------------------------------------------------------------


def test_a_firing_alert_is_repeated_after_its_repeat_interval() -> None:
    policy = Policy(routes=[RouteSpec(("oncall", "chat"), repeat_interval=timedelta(hours=1))])
    center = Center(policy)
    center.observe(obs(0))
    assert center.tick(3599) == []
    repeat = center.tick(3600)
    assert sent(repeat) == [
        ("oncall", "firing", "repeat", 3600),
        ("chat", "firing", "repeat", 3600),
    ]
    assert events(repeat) == ["repeated"] and not only(repeat).transition
    assert center.tick(3660) == []
    assert center.tick(7199) == []
    assert sent(center.tick(7200)) == [
        ("oncall", "firing", "repeat", 7200),
        ("chat", "firing", "repeat", 7200),
    ]


def test_the_default_repeat_interval_is_four_hours() -> None:
    center = Center()
    center.observe(obs(0))
    assert center.tick(4 * 3600 - 1) == []
    assert sent(center.tick(4 * 3600)) == [("oncall", "firing", "repeat", 4 * 3600)]


def test_the_shortest_repeat_interval_of_the_matching_routes_wins() -> None:
    policy = Policy(
        routes=[
            RouteSpec(("oncall",), repeat_interval=timedelta(hours=2)),
            RouteSpec(("chat",), repeat_interval=timedelta(minutes=30)),
        ]
    )
    center = Center(policy)
    center.observe(obs(0))
    assert center.tick(1799) == []
    assert [s[0] for s in sent(center.tick(1800))] == ["oncall", "chat"]


def test_an_acknowledged_alert_is_not_repeated() -> None:
    policy = Policy(routes=[RouteSpec(("oncall",), repeat_interval=timedelta(hours=1))])
    center = Center(policy)
    alert = only(center.observe(obs(0))).alert
    assert alert.id is not None
    center.ack(alert.id, 600)
    for hour in range(1, 10):
        assert center.tick(hour * 3600) == []


def test_a_resolved_alert_is_not_repeated() -> None:
    center = Center()
    center.observe(obs(0))
    center.observe(obs(60, "ok"))
    assert center.tick(5 * 3600) == []


# -- escalation ----------------------------------------------------------------------------


def test_an_unacknowledged_alert_escalates_once_after_escalate_after() -> None:
    center = Center(ESCALATING)
    center.observe(obs(0))
    assert center.tick(899) == []
    escalation = center.tick(900)
    assert sent(escalation) == [
        ("director", "firing", "escalation", 900),
        ("oncall-lead", "firing", "escalation", 900),
    ]
    assert events(escalation) == ["escalated"]
    assert escalation[0].events[0].detail == {"channels": ["director", "oncall-lead"]}
    assert center.alert().escalated
    for t in (960, 1800, 3600):
        assert center.tick(t) == []


def test_an_acknowledgement_before_escalate_after_stops_escalation() -> None:
    center = Center(ESCALATING)
    alert = only(center.observe(obs(0))).alert
    assert alert.id is not None
    center.ack(alert.id, 600, comment="on it")
    for t in (900, 1800, 7200):
        assert center.tick(t) == []
    assert not alert.escalated


def test_the_resolution_also_goes_to_the_escalation_channels_after_an_escalation() -> None:
    center = Center(ESCALATING)
    center.observe(obs(0))
    center.tick(900)
    assert sent(center.observe(obs(1000, "ok"))) == [
        ("oncall", "resolved", "transition", 1000),
        ("director", "resolved", "transition", 1000),
        ("oncall-lead", "resolved", "transition", 1000),
    ]


def test_a_resolution_before_escalation_goes_only_to_the_route_channels() -> None:
    center = Center(ESCALATING)
    center.observe(obs(0))
    assert sent(center.observe(obs(600, "ok"))) == [("oncall", "resolved", "transition", 600)]


def test_a_suppressed_alert_does_not_escalate() -> None:
    silence = SilenceSpec(1, {"rule": "endpoint-*"}, at(0), at(7200))
    center = Center(replace(ESCALATING, silences=[silence]))
    center.observe(obs(0))
    assert center.tick(900) == [] and center.tick(3600) == []


def test_an_alert_released_from_a_silence_gets_escalate_after_to_be_acknowledged() -> None:
    silence = SilenceSpec(1, {"subject": "ngsp-portal"}, at(0), at(3600))
    center = Center(replace(ESCALATING, silences=[silence]))
    center.observe(obs(0))
    released = center.tick(3600)
    assert sent(released) == [("oncall", "firing", "released", 3600)]


# -- acknowledge ---------------------------------------------------------------------------


def test_acknowledge_records_who_when_and_comment_and_an_event() -> None:
    center = Center()
    alert = only(center.observe(obs(0))).alert
    assert alert.id is not None
    change = center.ack(alert.id, 120, who="nguyen.van.a", comment="restarting the gateway")
    assert change.alert is alert and not change.transition and change.outgoing == []
    assert (alert.acknowledged_by, alert.acknowledged_at, alert.ack_comment) == (
        "nguyen.van.a",
        at(120),
        "restarting the gateway",
    )
    assert [(e.event, e.time, e.detail) for e in change.events] == [
        ("acknowledged", at(120), {"by": "nguyen.van.a", "comment": "restarting the gateway"})
    ]
    assert alert.flags()["acknowledged"]
    assert alert.state == "firing"


def test_acknowledging_an_unknown_alert_raises_unknown_alert() -> None:
    center = Center()
    with pytest.raises(UnknownAlert):
        center.engine.acknowledge(42, "someone", "", at(0))


def test_acknowledging_a_resolved_alert_raises_unknown_alert() -> None:
    center = Center()
    alert = only(center.observe(obs(0))).alert
    center.observe(obs(10, "ok"))
    assert alert.id is not None
    with pytest.raises(UnknownAlert):
        center.engine.acknowledge(alert.id, "someone", "", at(20))


def test_the_resolution_names_who_acknowledged() -> None:
    center = Center()
    alert = only(center.observe(obs(0))).alert
    assert alert.id is not None
    center.ack(alert.id, 60, who="tran.thi.b")
    resolved = only(center.observe(obs(120, "ok")))
    assert [o.notice.acknowledged_by for o in resolved.outgoing] == ["tran.thi.b"]
