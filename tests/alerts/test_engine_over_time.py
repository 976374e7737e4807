"""The engine over time: flapping, notice contents, restarts, and outbox payloads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from alerts.engine import EngineOptions
from alerts.model import Change, Condition
from alerts.notice import Notice, notice_from_payload, notice_payload
from alerts.policy import Policy, RouteSpec
from tests.alerts.engine_center import (
    ESCALATING,
    Center,
    at,
    events,
    obs,
    only,
    sent,
)

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
