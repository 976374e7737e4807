"""Alerts as live-feed messages (``{"type": "alert", "seq", "state", "rule", "subject"...}``)."""

from __future__ import annotations

from typing import Any

from alerts.model import Alert
from monitor_center.live.messages import alert_message


def alert_feed_message(alert: Alert) -> dict[str, Any]:
    """The alert's current state; an ``endpoint_down`` alert's subject is the endpoint id."""
    return alert_message(
        id=alert.id or 0,
        state=alert.state,
        rule=alert.rule,
        subject=alert.subject,
        severity=alert.severity,
        agency=alert.agency,
        summary=alert.summary,
        started_at=alert.started_at,
        acknowledged_by=alert.acknowledged_by,
        flags=alert.flags(),
        kind=alert.rule_kind,
        subject_type=alert.subject_type,
        value=alert.value,
        fired_at=alert.fired_at,
        resolved_at=alert.resolved_at,
    )
