"""The alert record, its events and the notifications a change asks for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from alerts.notice import Notice

AlertState = Literal["pending", "firing", "resolved"]
STATE_EVENTS = frozenset({"pending", "firing", "resolved", "cleared"})
"""Events that record a change of state (the others record flags, repeats, acks...)."""
Condition = Literal["ok", "pending", "active"]


@dataclass(slots=True)
class Alert:
    """One alert for a (rule, subject); at most one is open (pending or firing) per pair.

    ``notified`` says a firing notification went out (so a resolution is sent too);
    the flags ``silenced``, ``inhibited`` and ``in_maintenance`` hold notifications back
    without hiding the alert.
    """

    rule: str
    rule_kind: str
    subject: str
    severity: str
    state: AlertState
    started_at: datetime
    updated_at: datetime
    id: int | None = None
    subject_type: str = "endpoint"
    agency: str | None = None
    agency_kind: str | None = None
    summary: str = ""
    value: float | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    ack_comment: str | None = None
    silenced: bool = False
    inhibited: bool = False
    in_maintenance: bool = False
    flapping: bool = False
    notified: bool = False
    escalated: bool = False
    notified_at: datetime | None = None
    """When the first firing notification went out (escalation counts from here)."""
    last_notified_at: datetime | None = None
    notified_channels: tuple[str, ...] = ()
    """Every channel told of the firing: the resolution goes to exactly these."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.rule, self.subject)

    @property
    def is_open(self) -> bool:
        return self.state != "resolved"

    @property
    def suppressed(self) -> bool:
        """Held back from notification (still visible everywhere)."""
        return self.silenced or self.inhibited or self.in_maintenance

    def flags(self) -> dict[str, bool]:
        return {
            "acknowledged": self.acknowledged_by is not None,
            "silenced": self.silenced,
            "inhibited": self.inhibited,
            "maintenance": self.in_maintenance,
            "flapping": self.flapping,
        }


@dataclass(frozen=True, slots=True)
class Event:
    """One row of an alert's history (``pending``, ``firing``, ``acknowledged``...)."""

    time: datetime
    event: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notification to write to the outbox with the change; sent from ``due_at``."""

    channel_id: str
    notice: Notice
    due_at: datetime


@dataclass(slots=True)
class Change:
    """What one engine step did to one alert; persisted in a single transaction."""

    alert: Alert
    events: list[Event] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)

    @property
    def transition(self) -> bool:
        """True when the alert's state moved (as opposed to a flag, a repeat, an ack)."""
        return any(e.event in STATE_EVENTS for e in self.events)


@dataclass(frozen=True, slots=True)
class Observation:
    """A rule's verdict on one subject at one time, as the engine consumes it.

    ``condition`` is ``active`` (fire, after ``for_seconds`` if set), ``pending`` (not yet
    proven: e.g. 1 of 3 failed probes) or ``ok``.
    """

    rule: str
    rule_kind: str
    subject: str
    severity: str
    condition: Condition
    time: datetime
    summary: str = ""
    value: float | None = None
    subject_type: str = "endpoint"
    agency: str | None = None
    agency_kind: str | None = None
    for_seconds: float = 0.0
