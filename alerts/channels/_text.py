"""Wording and formatting shared by the channels, so every receiver says the same thing."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from alerts.notice import Notice

ZERO_TIME = "0001-01-01T00:00:00Z"
"""Alertmanager's way of writing "not ended yet" (Go's zero ``time.Time``)."""


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, e.g. ``2024-05-01T08:00:00Z``."""
    return utc(moment).isoformat().replace("+00:00", "Z")


def human_time(moment: datetime) -> str:
    """A reader-friendly timestamp that keeps the offset it was given in."""
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.isoformat(sep=" ", timespec="seconds")


def format_value(value: float) -> str:
    """A measured value without float noise: ``3``, ``99.5``, ``0.125``, ``1.2e-05``."""
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 0.001:
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def description(notice: Notice) -> str:
    """One sentence with the context a summary may lack."""
    parts = [f"Rule {notice.rule} ({notice.rule_kind}) on {notice.subject}"]
    if notice.agency:
        parts.append(f"agency {notice.agency}")
    if notice.value is not None:
        parts.append(f"value {format_value(notice.value)}")
    if notice.acknowledged_by:
        parts.append(f"acknowledged by {notice.acknowledged_by}")
    return ", ".join(parts) + "."


def alert_annotations(notice: Notice) -> dict[str, str]:
    """Alertmanager-style annotations: summary, description, value (when set), reason."""
    result = {
        "summary": notice.summary,
        "description": description(notice),
        "reason": notice.reason,
    }
    if notice.value is not None:
        result["value"] = format_value(notice.value)
    if notice.acknowledged_by:
        result["acknowledged_by"] = notice.acknowledged_by
    return result


def details(notice: Notice) -> list[tuple[str, str]]:
    """The alert's facts as (label, value) rows, for chat messages and e-mail."""
    rows = [
        ("Status", notice.status),
        ("Severity", notice.severity),
        ("Rule", f"{notice.rule} ({notice.rule_kind})"),
        ("Subject", notice.subject),
    ]
    if notice.agency:
        rows.append(("Agency", notice.agency))
    if notice.value is not None:
        rows.append(("Value", format_value(notice.value)))
    rows.append(("Started", human_time(notice.starts_at)))
    if notice.ends_at is not None:
        rows.append(("Ended", human_time(notice.ends_at)))
    if notice.reason != "transition":
        rows.append(("Reason", notice.reason))
    if notice.acknowledged_by:
        rows.append(("Acknowledged by", notice.acknowledged_by))
    return rows
