"""The alert engine, driven like Alertmanager's acceptance tests: actions at t seconds
after ``T0``, and the notifications (``Change.outgoing``) each one asks for, with their
due times. No database: a small ``Center`` plays the service, giving alerts their ids the
way the repository does and keeping a copy of every saved alert for restarts."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.engine import AlertEngine, EngineOptions, UnknownAlert
from alerts.model import Alert, Change, Condition, Observation
from alerts.notice import Notice, notice_from_payload, notice_payload
from alerts.policy import MaintenanceSpec, Policy, RouteSpec, SilenceSpec

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ONCALL = RouteSpec(("oncall",))
DEPENDS = {"lgsp-nghe-an": ["ngsp"]}

Sent = tuple[str, str, str, float]
"""One notification as the tests compare it: channel, status, reason, due (s after T0)."""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def obs(
    t: float,
    condition: Condition = "active",
    *,
    rule: str = "endpoint-down",
    subject: str = "ngsp-portal",
    agency: str | None = "ngsp",
    severity: str = "critical",
    kind: str = "endpoint_down",
    summary: str = "",
    value: float | None = None,
    for_seconds: float = 0.0,
    subject_type: str = "endpoint",
    agency_kind: str | None = None,
) -> Observation:
    return Observation(
        rule=rule,
        rule_kind=kind,
        subject=subject,
        severity=severity,
        condition=condition,
        time=at(t),
        summary=summary,
        value=value,
        subject_type=subject_type,
        agency=agency,
        agency_kind=agency_kind,
        for_seconds=for_seconds,
    )


def child(t: float, condition: Condition = "active", **kw: str) -> Observation:
    """An observation on the Nghe An provincial platform (it depends on NGSP)."""
    return obs(
        t,
        condition,
        subject=kw.get("subject", "lgsp-nghe-an-portal"),
        agency=kw.get("agency", "lgsp-nghe-an"),
        severity=kw.get("severity", "critical"),
    )


def sent(changes: Iterable[Change]) -> list[Sent]:
    return [
        (o.channel_id, o.notice.status, o.notice.reason, (o.due_at - T0).total_seconds())
        for c in changes
        for o in c.outgoing
    ]


def events(changes: Iterable[Change]) -> list[str]:
    return [e.event for c in changes for e in c.events]


def only(changes: Sequence[Change]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


class Center:
    """The service around the engine: saves every change (ids from a counter, as the
    repository numbers rows) and keeps a copy of each alert as stored."""

    def __init__(
        self,
        policy: Policy | None = None,
        options: EngineOptions | None = None,
        *,
        ids: Iterator[int] | None = None,
        stored: dict[int, Alert] | None = None,
    ) -> None:
        self.engine = AlertEngine(policy or Policy(routes=[ONCALL]), options)
        self.ids = ids or itertools.count(1)
        self.stored: dict[int, Alert] = {} if stored is None else stored
        self.changes: list[Change] = []

    def _save(self, changes: list[Change]) -> list[Change]:
        for change in changes:
            if change.alert.id is None:
                change.alert.id = next(self.ids)
            self.stored[change.alert.id] = replace(change.alert)
        self.changes.extend(changes)
        return changes

    def observe(self, observation: Observation) -> list[Change]:
        return self._save(self.engine.observe(observation))

    def tick(self, t: float) -> list[Change]:
        return self._save(self.engine.tick(at(t)))

    def ack(self, alert_id: int, t: float, who: str = "duty-officer", comment: str = "") -> Change:
        return self._save([self.engine.acknowledge(alert_id, who, comment, at(t))])[0]

    def set_policy(self, policy: Policy, t: float) -> list[Change]:
        return self._save(self.engine.set_policy(policy, at(t)))

    def restart(self, options: EngineOptions | None = None, *, at_s: float | None = None) -> Center:
        """A new process: a fresh engine loaded from what was stored. With ``at_s``, only
        the alerts resolved within the flap window before it and those still marked
        flapping, as ``AlertRepository.load_resolved_since`` selects them."""
        again = Center(self.engine.policy, options, ids=self.ids, stored=self.stored)
        rows = [replace(a) for a in self.stored.values()]
        recent = [a for a in rows if not a.is_open]
        if at_s is not None:
            since = at(at_s) - again.engine.options.flap_window
            recent = [
                a
                for a in recent
                if a.flapping or (a.resolved_at is not None and a.resolved_at >= since)
            ]
        again.engine.load([a for a in rows if a.is_open], recent)
        return again

    def alert(self, subject: str = "ngsp-portal") -> Alert:
        found = [a for a in self.engine.open_alerts() if a.subject == subject]
        assert len(found) == 1, found
        return found[0]


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

ESCALATING = Policy(
    routes=[
        RouteSpec(
            ("oncall",),
            escalate_after=timedelta(minutes=15),
            escalate_to=("director", "oncall-lead"),
        )
    ]
)


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


# -- flapping ------------------------------------------------------------------------------


def flap(center: Center, start: int, stop: int) -> list[Change]:
    """Active on every even 10 s step, ok on every odd one, from ``start`` to ``stop``."""
    changes: list[Change] = []
    for t in range(start, stop, 10):
        condition: Condition = "active" if (t // 10) % 2 == 0 else "ok"
        changes += center.observe(obs(t, condition))
    return changes


def quiet(center: Center, start: int, stop: int) -> list[Change]:
    changes: list[Change] = []
    for t in range(start, stop, 10):
        changes += center.tick(t)
    return changes


def test_a_flapping_endpoint_does_not_send_a_notification_per_flap() -> None:
    center = Center()
    during = flap(center, 0, 600)  # 30 firings, 30 resolutions
    assert len(sent(during)) <= 5
    assert sent(during)[-1] == ("oncall", "firing", "transition", 40)
    flagged = [o.notice for c in during for o in c.outgoing if o.notice.summary.startswith("flap")]
    assert len(flagged) == 1 and "flapping" in events(during)


def test_a_flapping_alert_resolves_once_after_it_stayed_quiet_for_the_flap_window() -> None:
    center = Center()
    flap(center, 0, 600)  # the last observation is "ok" at 590
    assert center.engine.open_alerts() == []
    assert quiet(center, 600, 1190) == []
    final = center.tick(1190)
    assert sent(final) == [("oncall", "resolved", "transition", 1190)]
    assert events(final) == ["flapping_ended"]
    notice = final[0].outgoing[0].notice
    assert notice.ends_at == at(590)
    assert not final[0].alert.flapping
    assert quiet(center, 1200, 3000) == []
    resolved = [s for s in sent(center.changes) if s[1] == "resolved"]
    assert len(resolved) == 3  # two before it was seen flapping, then the final one


def test_an_alert_that_stops_flapping_while_firing_resolves_after_the_flap_window() -> None:
    center = Center()
    flap(center, 0, 200)
    center.observe(obs(200))  # stays down
    assert quiet(center, 210, 3600) == []
    assert sent(center.observe(obs(3600, "ok"))) == []
    assert quiet(center, 3610, 4200) == []
    assert sent(center.tick(4200)) == [("oncall", "resolved", "transition", 4200)]


def test_an_alert_that_settles_firing_after_flapping_is_still_repeated() -> None:
    center = Center()
    flap(center, 0, 200)
    center.observe(obs(200))  # stays down from here on
    repeats = quiet(center, 210, 200 + 4 * 3600 + 10)
    assert [s[:3] for s in sent(repeats)] == [("oncall", "firing", "repeat")]


def test_flapping_survives_a_restart() -> None:
    center = Center()
    before = flap(center, 0, 300)  # ends "ok" at 290, known to be flapping
    again = center.restart()
    after = flap(again, 300, 600)
    assert len(sent(before)) + len(sent(after)) <= 5
    assert sent(after) == []
    assert quiet(again, 600, 1190) == []
    assert sent(again.tick(1190)) == [("oncall", "resolved", "transition", 1190)]


def test_flapping_survives_a_restart_while_the_alert_is_firing() -> None:
    center = Center()
    flap(center, 0, 310)  # ends "active" at 300
    again = center.restart()
    assert again.alert().flapping
    after = flap(again, 310, 600)
    assert sent(after) == []
    assert sent(quiet(again, 600, 1200)) == [("oncall", "resolved", "transition", 1190)]


def test_flapping_survives_a_restart_loading_only_the_flap_windows_resolutions() -> None:
    center = Center()
    flap(center, 0, 600)  # the last "ok" at 590
    again = center.restart(at_s=1000)
    assert again.tick(1000) == [] and quiet(again, 1010, 1190) == []
    assert sent(again.tick(1190)) == [("oncall", "resolved", "transition", 1190)]


def test_a_flapping_alert_still_resolves_after_a_restart_past_its_quiet_window() -> None:
    center = Center()
    flap(center, 0, 600)  # receivers were last told "firing" (at 40); the last "ok" at 590
    again = center.restart(at_s=1300)  # down from 600 to 1300
    assert [s[:3] for s in sent(again.tick(1300))] == [("oncall", "resolved", "transition")]


def test_a_restart_does_not_forget_the_open_alerts_firing_when_counting_flaps() -> None:
    center = Center()
    center.observe(obs(0))
    again = center.restart()
    flap(again, 10, 50)  # ok 10, active 20, ok 30, active 40: the third firing
    assert again.alert().flapping


# -- notice contents -----------------------------------------------------------------------


def test_notices_carry_title_labels_times_value_and_a_link() -> None:
    options = EngineOptions(center="NOC Viet Nam", url_base="https://noc.example.gov.vn")
    center = Center(ESCALATING, options)
    fired = only(center.observe(obs(0, summary="portal down", value=3.0, agency_kind="national")))
    notice = fired.outgoing[0].notice
    assert notice.title == "[FIRING critical] endpoint-down ngsp-portal"
    assert notice.all_labels() == {
        "alertname": "endpoint-down",
        "rule": "endpoint-down",
        "subject": "ngsp-portal",
        "severity": "critical",
        "kind": "endpoint_down",
        "agency": "ngsp",
        "agency_kind": "national",
    }
    assert (notice.starts_at, notice.ends_at, notice.value) == (at(0), None, 3.0)
    assert (notice.summary, notice.center) == ("portal down", "NOC Viet Nam")
    alert_id = fired.alert.id
    escalated = center.tick(900)[0].outgoing[0].notice
    assert escalated.title == "[ESCALATED FIRING critical] endpoint-down ngsp-portal"
    assert escalated.alert_id == alert_id
    assert escalated.url == f"https://noc.example.gov.vn/api/v1/alerts/{alert_id}"
    resolved = center.observe(obs(1000, "ok"))[0].outgoing[0].notice
    assert resolved.title == "[RESOLVED critical] endpoint-down ngsp-portal"
    assert (resolved.starts_at, resolved.ends_at, resolved.value) == (at(0), at(1000), 3.0)
    assert resolved.url == escalated.url


def test_a_repeat_notice_says_still_firing() -> None:
    center = Center(Policy(routes=[RouteSpec(("oncall",), repeat_interval=timedelta(hours=1))]))
    center.observe(obs(0, severity="warning"))
    notice = center.tick(3600)[0].outgoing[0].notice
    assert notice.title == "[STILL FIRING warning] endpoint-down ngsp-portal"
    assert notice.starts_at == at(0)


def test_notices_have_no_link_without_url_base() -> None:
    center = Center()
    center.observe(obs(0))
    assert all(o.notice.url is None for o in center.observe(obs(10, "ok"))[0].outgoing)


def test_the_firing_notice_takes_the_summary_of_the_observation_that_fired() -> None:
    center = Center()
    center.observe(obs(0, "pending", summary="1 of 3 probes failed"))
    fired = center.observe(obs(20, summary="3 of 3 probes failed", value=3.0))
    assert fired[0].outgoing[0].notice.summary == "3 of 3 probes failed"
    assert fired[0].outgoing[0].notice.value == 3.0


def test_the_first_firing_notice_links_to_the_alert_once_stored() -> None:
    center = Center(options=EngineOptions(url_base="https://noc.example.gov.vn"))
    change = only(center.observe(obs(0)))
    alert_id = change.alert.id
    assert alert_id is not None
    stored = change.outgoing[0].notice.stored_as(alert_id)  # as the repository does
    assert stored.url == f"https://noc.example.gov.vn/api/v1/alerts/{alert_id}"


# -- restart -------------------------------------------------------------------------------


def test_a_restarted_engine_sends_no_second_firing() -> None:
    center = Center()
    center.observe(obs(0))
    again = center.restart()
    assert again.alert().notified and again.alert().state == "firing"
    for t in range(10, 600, 10):
        assert again.observe(obs(t)) == []
    assert again.tick(600) == []


def test_a_restarted_engine_still_sends_the_resolution() -> None:
    center = Center()
    alert_id = only(center.observe(obs(0))).alert.id
    again = center.restart()
    resolved = only(again.observe(obs(60, "ok")))
    assert sent([resolved]) == [("oncall", "resolved", "transition", 60)]
    assert resolved.alert.id == alert_id and resolved.outgoing[0].notice.alert_id == alert_id


def test_a_restarted_engine_keeps_repeating_and_escalating_on_schedule() -> None:
    policy = replace(
        ESCALATING, routes=[replace(ESCALATING.routes[0], repeat_interval=timedelta(hours=1))]
    )
    center = Center(policy)
    center.observe(obs(0))
    again = center.restart()
    assert again.tick(899) == []
    assert [s[2] for s in sent(again.tick(900))] == ["escalation", "escalation"]
    assert [s[:3] for s in sent(again.tick(3600))] == [("oncall", "firing", "repeat")]


def test_a_restarted_engine_can_acknowledge_a_stored_alert() -> None:
    center = Center()
    alert_id = only(center.observe(obs(0))).alert.id
    assert alert_id is not None
    again = center.restart()
    assert again.ack(alert_id, 30, who="le.van.c").alert.acknowledged_by == "le.van.c"


# -- notice payloads -----------------------------------------------------------------------

_TZ = st.sampled_from([UTC, timezone(timedelta(hours=7))])
_TEXT = st.text(max_size=20)
_NOTICES = st.builds(
    Notice,
    alert_id=st.integers(min_value=0, max_value=2**53),
    status=st.sampled_from(["firing", "resolved"]),
    rule=_TEXT,
    rule_kind=_TEXT,
    subject=_TEXT,
    severity=_TEXT,
    summary=st.text(max_size=200),
    starts_at=st.datetimes(timezones=_TZ),
    ends_at=st.none() | st.datetimes(timezones=_TZ),
    agency=st.none() | _TEXT,
    agency_kind=st.none() | _TEXT,
    value=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    reason=st.sampled_from(["transition", "repeat", "escalation", "released"]),
    acknowledged_by=st.none() | _TEXT,
    center=_TEXT,
    url=st.none() | _TEXT,
    labels=st.dictionaries(_TEXT, _TEXT, max_size=4),
)


@given(_NOTICES)
def test_a_notice_survives_the_outbox_payload_round_trip(notice: Notice) -> None:
    payload = json.loads(json.dumps(notice_payload(notice)))
    assert notice_from_payload(payload) == notice


def test_a_payload_from_a_newer_version_with_unknown_keys_still_reads() -> None:
    center = Center()
    notice = only(center.observe(obs(0, value=1.5))).outgoing[0].notice
    payload = {**notice_payload(notice), "fingerprint": "abc", "runbook": None}
    assert notice_from_payload(payload) == notice
