"""A small stand-in for the service around the pure engine, for the engine's tests:
``Center`` gives alerts their ids the way the repository does and keeps a copy of every
saved alert for restarts; the helpers build observations at ``t`` seconds after ``T0``."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alerts.engine import AlertEngine, EngineOptions
from alerts.model import Alert, Change, Condition, Observation
from alerts.policy import Policy, RouteSpec

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


ESCALATING = Policy(
    routes=[
        RouteSpec(
            ("oncall",),
            escalate_after=timedelta(minutes=15),
            escalate_to=("director", "oncall-lead"),
        )
    ]
)
