"""The alert state machine: observations in, persisted changes and notifications out.

Per (rule, subject): pending -> firing -> resolved, with acknowledged, silenced,
inhibited and maintenance as flags. The engine is pure and in-memory: the service loads
the open alerts at start, feeds it observations and ticks, and writes each returned
``Change`` (the alert, its events, its outbox rows) in one transaction.

Flapping: a (rule, subject) that fires ``flap_threshold`` times within ``flap_window``
is marked flapping; its further firings and resolutions are not sent, and one final
"resolved" goes out once it has stayed quiet for ``flap_window``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.model import Alert, Change, Event, Observation, Outgoing
from alerts.notice import Notice, NoticeReason, NoticeStatus
from alerts.policy import DEFAULT_REPEAT, Policy

Key = tuple[str, str]


class UnknownAlert(LookupError):
    """No open alert has this id (it never existed, or it is resolved)."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    center: str = "Monitor Center"
    url_base: str | None = None
    """Link put in notices: ``{url_base}/api/v1/alerts/{id}`` (``Notice.stored_as`` fills
    in the id of an alert not stored yet)."""
    flap_window: timedelta = timedelta(minutes=10)
    flap_threshold: int = 3


class AlertEngine:
    """Holds the open alerts and decides every transition and notification."""

    def __init__(self, policy: Policy, options: EngineOptions | None = None) -> None:
        self.policy = policy
        self.options = options or EngineOptions()
        self._open: dict[Key, Alert] = {}
        self._fires: dict[Key, deque[datetime]] = {}
        self._flap_tail: dict[Key, Alert] = {}
        self._active_since: dict[Key, datetime] = {}
        self._extra: list[Change] = []

    # -- state ---------------------------------------------------------------------------

    def load(self, open_alerts: Iterable[Alert], recent: Iterable[Alert] = ()) -> None:
        """Start from stored alerts: the open ones, and those resolved within the flap
        window (so flapping survives a restart)."""
        opened = list(open_alerts)
        for alert in sorted([*recent, *opened], key=lambda a: a.started_at):
            if alert.fired_at is not None:
                self._fires.setdefault(alert.key, deque()).append(alert.fired_at)
            if alert.flapping and not alert.is_open:
                self._flap_tail[alert.key] = alert
        for alert in opened:
            self._open[alert.key] = alert

    def open_alerts(self) -> list[Alert]:
        return list(self._open.values())

    def get(self, alert_id: int) -> Alert | None:
        return next((a for a in self._open.values() if a.id == alert_id), None)

    def set_policy(self, policy: Policy, now: datetime) -> list[Change]:
        """Swap routes, silences and maintenance; flags are recomputed at once."""
        self.policy = policy
        return self._refresh_flags(now)

    # -- inputs --------------------------------------------------------------------------

    def observe(self, obs: Observation) -> list[Change]:
        """Apply one rule verdict; returns the changes to persist (possibly none)."""
        alert = self._open.get((obs.rule, obs.subject))
        if obs.condition == "ok":
            if alert is None:
                return []
            change = self._clear(alert, obs.time) if alert.state == "pending" else None
            change = change or self._resolve(alert, obs.time)
        elif alert is None:
            change = self._new(obs)
            if obs.condition == "active":
                self._active_since[change.alert.key] = obs.time
                if obs.for_seconds <= 0:
                    self._fire(change, obs.time)
        elif alert.state == "pending" and obs.condition == "active":
            since = self._active_since.setdefault(alert.key, obs.time)
            if (obs.time - since).total_seconds() < obs.for_seconds:
                return []
            change = Change(alert)
            alert.summary, alert.value = obs.summary or alert.summary, obs.value
            self._fire(change, obs.time)
        else:
            if obs.condition == "pending":
                self._active_since.pop(alert.key, None)
            alert.value = obs.value if obs.value is not None else alert.value
            return []
        extra, self._extra = self._extra, []
        return [change, *extra, *self._refresh_flags(obs.time, skip=change.alert)]

    def acknowledge(self, alert_id: int, who: str, comment: str, now: datetime) -> Change:
        """Mark an open alert acknowledged: no more repeats, no escalation."""
        alert = self.get(alert_id)
        if alert is None:
            raise UnknownAlert(alert_id)
        alert.acknowledged_by, alert.acknowledged_at = who, now
        alert.ack_comment, alert.updated_at = comment, now
        return Change(alert, [Event(now, "acknowledged", {"by": who, "comment": comment})])

    def tick(self, now: datetime) -> list[Change]:
        """Time-driven work: flags, repeats, escalations, the end of flapping."""
        changes = self._refresh_flags(now)
        touched = {id(c.alert): c for c in changes}
        for alert in list(self._open.values()):
            if alert.state != "firing" or alert.acknowledged_by or alert.suppressed:
                continue
            change = touched.get(id(alert)) or Change(alert)
            self._repeat(change, now)
            self._escalate(change, now)
            if (change.events or change.outgoing) and id(alert) not in touched:
                changes.append(change)
        changes.extend(self._end_flapping(now))
        return changes

    # -- transitions ---------------------------------------------------------------------

    def _new(self, obs: Observation) -> Change:
        alert = Alert(
            rule=obs.rule,
            rule_kind=obs.rule_kind,
            subject=obs.subject,
            severity=obs.severity,
            state="pending",
            started_at=obs.time,
            updated_at=obs.time,
            subject_type=obs.subject_type,
            agency=obs.agency,
            agency_kind=obs.agency_kind,
            summary=obs.summary,
            value=obs.value,
        )
        self._open[alert.key] = alert
        events = [Event(obs.time, "pending", {"summary": obs.summary})]
        return Change(alert, events + self._set_flags(alert, obs.time))

    def _fire(self, change: Change, now: datetime) -> None:
        alert = change.alert
        alert.state, alert.fired_at, alert.updated_at = "firing", now, now
        change.events.append(Event(now, "firing", {"summary": alert.summary}))
        fires = self._fires.setdefault(alert.key, deque())
        fires.append(now)
        while fires and now - fires[0] > self.options.flap_window:
            fires.popleft()
        if len(fires) >= self.options.flap_threshold or alert.key in self._flap_tail:
            alert.flapping = True
            change.events.append(Event(now, "flapping", {"fires": len(fires)}))
            previous = self._flap_tail.pop(alert.key, None)
            if previous is not None:
                # Already told about this flapping episode: stay quiet, resolve at the end.
                # The episode's receivers carry over to this alert; the old row is done.
                previous.flapping, previous.updated_at = False, now
                self._extra.append(Change(previous))
                alert.notified = previous.notified
                alert.notified_channels = previous.notified_channels
                alert.notified_at = previous.notified_at
                alert.last_notified_at = now
                return
        self._notify_firing(change, now, "transition")

    def _clear(self, alert: Alert, now: datetime) -> Change:
        """A pending alert whose condition went away before it fired."""
        del self._open[alert.key]
        self._active_since.pop(alert.key, None)
        alert.state, alert.resolved_at, alert.updated_at = "resolved", now, now
        return Change(alert, [Event(now, "cleared")])

    def _resolve(self, alert: Alert, now: datetime) -> Change:
        del self._open[alert.key]
        self._active_since.pop(alert.key, None)
        alert.state, alert.resolved_at, alert.updated_at = "resolved", now, now
        change = Change(alert, [Event(now, "resolved")])
        if alert.flapping:
            self._flap_tail[alert.key] = alert
        elif alert.notified:
            self._send(change, "resolved", "transition", alert.notified_channels, now)
        return change

    def _end_flapping(self, now: datetime) -> list[Change]:
        changes = []
        for key, alert in list(self._flap_tail.items()):
            quiet_since = alert.resolved_at or alert.updated_at
            if key in self._open or now - quiet_since < self.options.flap_window:
                continue
            del self._flap_tail[key]
            self._fires.pop(key, None)
            alert.flapping, alert.updated_at = False, now
            change = Change(alert, [Event(now, "flapping_ended")])
            if alert.notified:
                self._send(change, "resolved", "transition", alert.notified_channels, now)
            changes.append(change)
        return changes

    # -- notifications -------------------------------------------------------------------

    def _notify_firing(self, change: Change, now: datetime, reason: NoticeReason) -> None:
        alert = change.alert
        if alert.suppressed:
            return
        for route in self.policy.routes_for(alert):
            due = now + route.wait_for(alert.severity)
            for channel in route.channels:
                if not any(o.channel_id == channel for o in change.outgoing):
                    change.outgoing.append(
                        Outgoing(channel, self.notice(alert, "firing", reason), due)
                    )
        if change.outgoing:
            alert.notified = True
            alert.notified_at = alert.notified_at or now
            alert.last_notified_at = now
            self._remember_channels(alert, [o.channel_id for o in change.outgoing])

    def _repeat(self, change: Change, now: datetime) -> None:
        alert = change.alert
        routes = self.policy.routes_for(alert)
        if not alert.notified or alert.last_notified_at is None or not routes:
            return
        every = min(r.repeat_interval or DEFAULT_REPEAT for r in routes)
        if now - alert.last_notified_at >= every:
            self._send(change, "firing", "repeat", self.policy.channels_for(alert), now)
            alert.last_notified_at = now
            change.events.append(Event(now, "repeated"))

    def _escalate(self, change: Change, now: datetime) -> None:
        alert = change.alert
        # Counted from the first notification: time spent silenced or inhibited gave
        # nobody a chance to acknowledge.
        if alert.escalated or alert.notified_at is None:
            return
        targets: list[str] = []
        for route in self.policy.routes_for(alert):
            if route.escalate_after and now - alert.notified_at >= route.escalate_after:
                targets.extend(c for c in route.escalate_to if c not in targets)
        if targets:
            alert.escalated, alert.updated_at = True, now
            self._send(change, "firing", "escalation", targets, now)
            change.events.append(Event(now, "escalated", {"channels": targets}))

    @staticmethod
    def _remember_channels(alert: Alert, channels: Iterable[str]) -> None:
        known = list(alert.notified_channels)
        known.extend(c for c in channels if c not in known)
        alert.notified_channels = tuple(known)

    def _send(
        self,
        change: Change,
        status: NoticeStatus,
        reason: NoticeReason,
        channels: Iterable[str],
        now: datetime,
    ) -> None:
        notice = self.notice(change.alert, status, reason)
        channels = list(channels)
        change.outgoing.extend(Outgoing(c, notice, now) for c in channels)
        if status == "firing":
            self._remember_channels(change.alert, channels)

    def notice(self, alert: Alert, status: NoticeStatus, reason: NoticeReason) -> Notice:
        """The notice channels receive for this alert (``alert_id`` 0 until stored)."""
        summary = f"flapping: {alert.summary}" if alert.flapping else alert.summary
        base = self.options.url_base
        return Notice(
            alert_id=alert.id or 0,
            status=status,
            rule=alert.rule,
            rule_kind=alert.rule_kind,
            subject=alert.subject,
            severity=alert.severity,
            summary=summary,
            starts_at=alert.fired_at or alert.started_at,
            ends_at=alert.resolved_at if status == "resolved" else None,
            agency=alert.agency,
            agency_kind=alert.agency_kind,
            value=alert.value,
            reason=reason,
            acknowledged_by=alert.acknowledged_by,
            center=self.options.center,
            url=f"{base}/api/v1/alerts/{alert.id or '{alert_id}'}" if base else None,
        )

    # -- flags ---------------------------------------------------------------------------

    def _set_flags(self, alert: Alert, now: datetime) -> list[Event]:
        """Recompute silenced / inhibited / maintenance; one event per flag that moved."""
        new = {
            "silenced": self.policy.silenced(alert, now),
            "inhibited": self.policy.inhibited(alert, self._critical_agencies()),
            "in_maintenance": self.policy.in_maintenance(alert, now),
        }
        events = []
        for name, value in new.items():
            if getattr(alert, name) != value:
                setattr(alert, name, value)
                label = name.removeprefix("in_")
                events.append(Event(now, label if value else f"un{label}"))
        return events

    def _critical_agencies(self) -> set[str]:
        # A parent that is failing but not yet confirmed (pending) inhibits too: the
        # child's failures are most likely the parent's, and fire in the same round.
        return {a.agency for a in self._open.values() if a.severity == "critical" and a.agency}

    def _refresh_flags(self, now: datetime, skip: Alert | None = None) -> list[Change]:
        changes = []
        for alert in list(self._open.values()):
            if alert is skip:
                continue
            events = self._set_flags(alert, now)
            if not events:
                continue
            alert.updated_at = now
            change = Change(alert, events)
            if alert.state == "firing" and not alert.notified and not alert.flapping:
                self._notify_firing(change, now, "released")
            changes.append(change)
        return changes
