"""Slack channel: incoming-webhook JSON, which Mattermost, Rocket.Chat and others accept.

The message is ``text`` (the headline, for notifications and clients without
attachments) plus one attachment coloured by severity, with the alert's facts as fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from alerts.channels import _settings
from alerts.channels._http import post_json, safe_url
from alerts.channels._text import details, utc
from alerts.notice import Notice

RESOLVED_COLOR = "#2eb886"
SEVERITY_COLORS: Mapping[str, str] = MappingProxyType(
    {"critical": "#d00000", "warning": "#f2a600", "info": "#439fe0"}
)
OTHER_COLOR = "#888888"
_SHORT_FIELDS = frozenset({"Status", "Severity", "Agency", "Value", "Subject"})


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn gives meaning to (&, <, >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def color(notice: Notice) -> str:
    """Green when resolved, else by severity: red critical, amber warning, blue info."""
    if notice.status == "resolved":
        return RESOLVED_COLOR
    return SEVERITY_COLORS.get(notice.severity.lower(), OTHER_COLOR)


def slack_body(notice: Notice) -> dict[str, Any]:
    """The incoming-webhook payload for one notice."""
    title = escape(notice.title)
    attachment: dict[str, Any] = {
        "fallback": f"{title}: {escape(notice.summary)}",
        "color": color(notice),
        "title": title,
        "text": escape(notice.summary),
        "fields": [
            {"title": name, "value": escape(value), "short": name in _SHORT_FIELDS}
            for name, value in details(notice)
        ],
        "footer": escape(notice.center),
        "ts": int(utc(notice.ends_at or notice.starts_at).timestamp()),
    }
    if notice.url:
        attachment["title_link"] = notice.url
    return {"text": title, "attachments": [attachment]}


class SlackChannel:
    """POSTs ``slack_body`` to an incoming-webhook URL (whose path is the secret)."""

    kind = "slack"

    def __init__(self, channel_id: str, url: str) -> None:
        self.channel_id = channel_id
        self._url = url

    @classmethod
    def from_settings(cls, channel_id: str, settings: Mapping[str, Any]) -> SlackChannel:
        """Build from ``url``."""
        where = _settings.label(cls.kind, channel_id)
        return cls(channel_id, _settings.http_url(settings, "url", where=where))

    def describe(self) -> str:
        """``slack https://hooks.example/…``: the host only, the path holds the token."""
        return f"slack {safe_url(self._url, keep_path=False)}"

    async def send(self, notice: Notice, *, timeout: float) -> None:
        """POST the notice; raise ``DeliveryError`` unless the webhook accepts it."""
        await post_json(
            self._url,
            slack_body(notice),
            timeout=timeout,
            where=self.describe(),
            secrets=(self._url,),
        )
