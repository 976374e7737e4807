"""What a channel is asked to send: one alert notification, independent of any transport."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

NoticeStatus = Literal["firing", "resolved"]
NoticeReason = Literal["transition", "repeat", "escalation", "released"]


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification about one alert.

    ``reason`` says why it is sent: the alert's own ``transition`` (firing or resolved),
    a ``repeat`` reminder, an ``escalation`` (nobody acknowledged), or ``released``
    (it was held back by inhibition, a silence or maintenance and now goes out).
    """

    alert_id: int
    status: NoticeStatus
    rule: str
    rule_kind: str
    subject: str
    severity: str
    summary: str
    starts_at: datetime
    ends_at: datetime | None = None
    agency: str | None = None
    agency_kind: str | None = None
    value: float | None = None
    reason: NoticeReason = "transition"
    acknowledged_by: str | None = None
    center: str = "Monitor Center"
    url: str | None = None
    """A link to the alert; ``{alert_id}`` in it is filled in by ``stored_as``."""
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """A one-line headline, e.g. ``[FIRING critical] endpoint-down ngsp-portal``."""
        prefix = {"escalation": "ESCALATED ", "repeat": "STILL "}.get(self.reason, "")
        return f"[{prefix}{self.status.upper()} {self.severity}] {self.rule} {self.subject}"

    def stored_as(self, alert_id: int) -> Notice:
        """This notice for the alert once stored under ``alert_id`` (id and link set)."""
        url = self.url.replace("{alert_id}", str(alert_id)) if self.url else None
        return replace(self, alert_id=alert_id, url=url)

    def all_labels(self) -> dict[str, str]:
        """Labels every receiver sees: alertname, rule, subject, severity, agency, kind."""
        base = {
            "alertname": self.rule,
            "rule": self.rule,
            "subject": self.subject,
            "severity": self.severity,
            "kind": self.rule_kind,
        }
        if self.agency:
            base["agency"] = self.agency
        if self.agency_kind:
            base["agency_kind"] = self.agency_kind
        return {**self.labels, **base}


def notice_payload(notice: Notice) -> dict[str, Any]:
    """The notice as JSON-ready data (the outbox row stores this)."""
    data = {name: getattr(notice, name) for name in Notice.__slots__}
    data["starts_at"] = notice.starts_at.isoformat()
    data["ends_at"] = notice.ends_at.isoformat() if notice.ends_at else None
    data["labels"] = dict(notice.labels)
    return data


def notice_from_payload(data: Mapping[str, Any]) -> Notice:
    """Inverse of ``notice_payload``; unknown keys (from newer versions) are ignored."""
    known = {k: v for k, v in data.items() if k in Notice.__slots__}
    known["starts_at"] = datetime.fromisoformat(known["starts_at"])
    if known.get("ends_at"):
        known["ends_at"] = datetime.fromisoformat(known["ends_at"])
    return Notice(**known)
