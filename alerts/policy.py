"""Who gets told, and what holds a notification back: routes, silences, maintenance,
inhibition through agency dependencies. Pure data and functions; the service builds it."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from alerts.model import Alert

DEFAULT_REPEAT = timedelta(hours=4)
DEFAULT_GROUP_WAIT = timedelta(seconds=30)
MATCHER_KEYS = ("rule", "subject", "severity", "agency", "agency_kind", "kind")


def alert_labels(alert: Alert) -> dict[str, str]:
    """The labels silences match on (``kind`` is the rule's kind)."""
    labels = {
        "rule": alert.rule,
        "subject": alert.subject,
        "severity": alert.severity,
        "kind": alert.rule_kind,
    }
    if alert.agency:
        labels["agency"] = alert.agency
    if alert.agency_kind:
        labels["agency_kind"] = alert.agency_kind
    return labels


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """Matching alerts go to ``channels``; ``None`` criteria match anything."""

    channels: tuple[str, ...]
    severity: str | None = None
    agency: str | None = None
    agency_kind: str | None = None
    kind: str | None = None
    rule: str | None = None
    group_wait: timedelta | None = None
    repeat_interval: timedelta | None = None
    escalate_after: timedelta | None = None
    escalate_to: tuple[str, ...] = ()

    def matches(self, alert: Alert) -> bool:
        wanted = (
            (self.severity, alert.severity),
            (self.agency, alert.agency),
            (self.agency_kind, alert.agency_kind),
            (self.kind, alert.rule_kind),
            (self.rule, alert.rule),
        )
        return all(want is None or want == have for want, have in wanted)

    def wait_for(self, severity: str) -> timedelta:
        """``group_wait``: 0 for critical alerts unless set, 30 s for the rest."""
        if self.group_wait is not None:
            return self.group_wait
        return timedelta(0) if severity == "critical" else DEFAULT_GROUP_WAIT


@dataclass(frozen=True, slots=True)
class SilenceSpec:
    """Every matcher (label -> glob) must match; active in ``[starts_at, ends_at)``."""

    id: int
    matchers: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(fnmatchcase(labels.get(k, ""), glob) for k, glob in self.matchers.items())


_PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass(frozen=True, slots=True)
class MaintenanceSpec:
    """A window for an agency or an endpoint; ``recurring`` repeats it daily or weekly."""

    starts_at: datetime
    ends_at: datetime
    agency: str | None = None
    endpoint: str | None = None
    recurring: str | None = None

    def covers(self, now: datetime) -> bool:
        """True when ``now`` falls inside the window or one of its repetitions."""
        if now < self.starts_at:
            return False
        if self.recurring is None:
            return now < self.ends_at
        period = _PERIOD[self.recurring]
        offset = (now - self.starts_at) % period
        return offset < self.ends_at - self.starts_at

    def applies_to(self, alert: Alert) -> bool:
        if self.endpoint is not None:
            return alert.subject_type == "endpoint" and alert.subject == self.endpoint
        return alert.agency == self.agency


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the engine consults when deciding about notifications."""

    routes: Sequence[RouteSpec] = ()
    silences: Sequence[SilenceSpec] = ()
    maintenance: Sequence[MaintenanceSpec] = ()
    depends_on: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Agency -> the agencies it depends on (an outage there explains ours)."""

    def routes_for(self, alert: Alert) -> list[RouteSpec]:
        return [r for r in self.routes if r.matches(alert)]

    def channels_for(self, alert: Alert) -> list[str]:
        """Every matching route's channels, each once, in config order."""
        seen: dict[str, None] = {}
        for route in self.routes_for(alert):
            seen.update(dict.fromkeys(route.channels))
        return list(seen)

    def silenced(self, alert: Alert, now: datetime) -> bool:
        labels = alert_labels(alert)
        return any(s.active(now) and s.matches(labels) for s in self.silences)

    def in_maintenance(self, alert: Alert, now: datetime) -> bool:
        return any(m.applies_to(alert) and m.covers(now) for m in self.maintenance)

    def ancestors(self, agency: str | None) -> set[str]:
        """Agencies ``agency`` depends on, directly or through others."""
        found: set[str] = set()
        todo = list(self.depends_on.get(agency, ())) if agency else []
        while todo:
            parent = todo.pop()
            if parent not in found:
                found.add(parent)
                todo.extend(self.depends_on.get(parent, ()))
        return found

    def inhibited(self, alert: Alert, critical_agencies: Collection[str]) -> bool:
        """True while an agency this alert's agency depends on is in ``critical_agencies``
        (agencies with an open critical alert)."""
        return bool(critical_agencies) and not self.ancestors(alert.agency).isdisjoint(
            critical_agencies
        )
