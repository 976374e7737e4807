"""Telegram channel: the Bot API's ``sendMessage`` with an HTML-formatted message.

``base_url`` is configurable for a self-hosted Bot API server (and for tests). The bot
token sits in the URL path, so it is kept out of every message and description.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from alerts.channels import _settings
from alerts.channels._http import classify, encode_json, post, redact, safe_url
from alerts.channels._text import details
from alerts.channels.base import DeliveryError
from alerts.notice import Notice

DEFAULT_BASE_URL = "https://api.telegram.org"
MAX_SUMMARY = 1000  # Telegram caps a message at 4096 characters; keep well clear of it
_ICONS: Mapping[str, str] = MappingProxyType({"firing": "🔴", "resolved": "✅"})


def telegram_text(notice: Notice) -> str:
    """The message in Telegram's HTML subset, every value escaped."""
    summary = notice.summary
    if len(summary) > MAX_SUMMARY:
        summary = summary[: MAX_SUMMARY - 1] + "…"
    lines = [
        f"{_ICONS.get(notice.status, '')} <b>{html.escape(notice.title)}</b>".strip(),
        html.escape(summary),
        "",
    ]
    lines += [
        f"<b>{html.escape(name)}:</b> {html.escape(value)}" for name, value in details(notice)
    ]
    if notice.url:
        lines.append(
            f'<a href="{html.escape(notice.url)}">Open in {html.escape(notice.center)}</a>'
        )
    return "\n".join(lines)


def telegram_body(notice: Notice, *, chat_id: str) -> dict[str, Any]:
    """The ``sendMessage`` parameters for one notice."""
    return {
        "chat_id": chat_id,
        "text": telegram_text(notice),
        "parse_mode": "HTML",
        "disable_web_page_preview": True,
    }


class TelegramChannel:
    """Sends ``telegram_body`` to ``{base_url}/bot{token}/sendMessage``."""

    kind = "telegram"

    def __init__(
        self, channel_id: str, bot_token: str, chat_id: str, *, base_url: str = DEFAULT_BASE_URL
    ) -> None:
        self.channel_id = channel_id
        self._token = bot_token
        self._chat_id = chat_id
        self._base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(cls, channel_id: str, settings: Mapping[str, Any]) -> TelegramChannel:
        """Build from ``bot_token``, ``chat_id`` and an optional ``base_url``."""
        where = _settings.label(cls.kind, channel_id)
        return cls(
            channel_id,
            _settings.required_str(settings, "bot_token", where=where),
            _settings.required_str(settings, "chat_id", where=where),
            base_url=_settings.http_url(
                settings, "base_url", where=where, default=DEFAULT_BASE_URL
            ),
        )

    def describe(self) -> str:
        """``telegram chat <id> via <base URL>``, never the token."""
        return f"telegram chat {self._chat_id} via {safe_url(self._base_url)}"

    async def send(self, notice: Notice, *, timeout: float) -> None:
        """Send the message; Telegram's own error description and ``retry_after`` are kept."""
        where = f"telegram chat {self._chat_id}"
        secrets = (self._token,)
        reply = await post(
            f"{self._base_url}/bot{self._token}/sendMessage",
            encode_json(telegram_body(notice, chat_id=self._chat_id)),
            timeout=timeout,
            where=where,
            secrets=secrets,
        )
        data = reply.json()
        answer = data if isinstance(data, dict) else {}
        description = answer.get("description")
        detail = description if isinstance(description, str) else None
        if 200 <= reply.status < 300 and answer.get("ok") is False:
            # The Bot API reports some refusals with 200 and ok=false; never retry those.
            raise DeliveryError(
                redact(f"{where}: refused: {detail or 'ok=false'}", secrets),
                permanent=True,
                status=reply.status,
            )
        classify(
            reply, where=where, secrets=secrets, detail=detail, retry_after=_retry_after(answer)
        )


def _retry_after(answer: Mapping[str, Any]) -> float | None:
    """``parameters.retry_after`` from a Bot API error (sent with 429 Too Many Requests)."""
    parameters = answer.get("parameters")
    if not isinstance(parameters, dict):
        return None
    value = parameters.get("retry_after")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)
