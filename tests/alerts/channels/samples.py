"""Notices the channel tests send."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from alerts.notice import Notice

STARTED = datetime(2024, 5, 1, 1, 2, 3, tzinfo=UTC)
ENDED = datetime(2024, 5, 1, 1, 9, 30, tzinfo=UTC)
SUMMARY_VI = "Cổng dịch vụ công Nghệ An không phản hồi"

_BASE = Notice(
    alert_id=42,
    status="firing",
    rule="endpoint-down",
    rule_kind="endpoint_down",
    subject="nghean-portal",
    severity="critical",
    summary=SUMMARY_VI,
    starts_at=STARTED,
    agency="nghean",
    agency_kind="province",
    value=3.0,
    url="https://monitor.example.gov.vn/alerts/42",
    labels={"team": "noc"},
)


def firing(**changes: Any) -> Notice:
    """A critical endpoint-down alert on Nghệ An's portal, firing."""
    return dataclasses.replace(_BASE, **changes)


def resolved(**changes: Any) -> Notice:
    """The same alert, resolved at ``ENDED``."""
    return dataclasses.replace(_BASE, **{"status": "resolved", "ends_at": ENDED, **changes})
