"""Alertmanager channel: forward alerts to an existing Alertmanager's ``/api/v2/alerts``.

For a center that already runs Alertmanager and wants its routing, grouping and
receivers. Alertmanager treats an alert it hears nothing more about as resolved after
its ``resolve_timeout`` (5 min by default), so a route to this channel should set a
``repeat_interval`` shorter than that; a resolved notice sets ``endsAt`` and ends it at
once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from alerts.channels import _settings
from alerts.channels._http import post_json, safe_url
from alerts.channels._text import alert_annotations, rfc3339, utc
from alerts.notice import Notice


def alertmanager_body(notice: Notice, *, now: datetime) -> list[dict[str, Any]]:
    """The ``postableAlerts`` list (one alert) for a notice.

    A firing alert has no ``endsAt`` (Alertmanager applies its resolve timeout); a
    resolved one ends at ``ends_at``, or ``now`` when that is missing or in the future
    (an ``endsAt`` in the future would keep it firing there).
    """
    alert: dict[str, Any] = {
        "labels": notice.all_labels(),
        "annotations": alert_annotations(notice),
        "startsAt": rfc3339(notice.starts_at),
    }
    if notice.status == "resolved":
        ended = utc(notice.ends_at) if notice.ends_at is not None else utc(now)
        alert["endsAt"] = rfc3339(min(ended, utc(now)))
    if notice.url:
        alert["generatorURL"] = notice.url
    return [alert]


class AlertmanagerChannel:
    """POSTs ``alertmanager_body`` to ``{url}/api/v2/alerts``."""

    kind = "alertmanager"

    def __init__(self, channel_id: str, url: str) -> None:
        self.channel_id = channel_id
        self._url = url.rstrip("/")

    @classmethod
    def from_settings(cls, channel_id: str, settings: Mapping[str, Any]) -> AlertmanagerChannel:
        """Build from ``url``, the Alertmanager's base URL (e.g. ``http://am:9093``)."""
        where = _settings.label(cls.kind, channel_id)
        return cls(channel_id, _settings.http_url(settings, "url", where=where))

    def describe(self) -> str:
        """``alertmanager http://host:9093``."""
        return f"alertmanager {safe_url(self._url)}"

    async def send(self, notice: Notice, *, timeout: float) -> None:
        """POST the alert; raise ``DeliveryError`` unless Alertmanager accepts it."""
        await post_json(
            f"{self._url}/api/v2/alerts",
            alertmanager_body(notice, now=datetime.now(UTC)),
            timeout=timeout,
            where=f"alertmanager {self.channel_id}",
            secrets=(self._url,),
        )
