"""Webhook channel: Alertmanager's webhook JSON (version 4), optionally HMAC-signed.

Anything that already consumes Alertmanager webhooks (alerta, PagerDuty bridges, custom
bots) accepts it unchanged. With a ``secret``, the receiver can check the body came from
us: ``X-Monitor-Center-Signature: sha256=HMAC(secret, timestamp + "." + body)`` with the
unix ``X-Monitor-Center-Timestamp``; ``verify_signature`` does that check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from alerts.channels import _settings
from alerts.channels._http import encode_json, post_json, safe_url
from alerts.channels._text import ZERO_TIME, alert_annotations, rfc3339
from alerts.notice import Notice

SIGNATURE_HEADER = "X-Monitor-Center-Signature"
TIMESTAMP_HEADER = "X-Monitor-Center-Timestamp"


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable 16-hex-digit hash of a label set (order does not matter)."""
    canonical = "\n".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def webhook_body(notice: Notice, *, receiver: str, now: datetime) -> dict[str, Any]:
    """The Alertmanager webhook v4 payload for one notice (one alert per message).

    ``now`` stands in for ``endsAt`` when a resolved notice carries no end time.
    """
    labels = notice.all_labels()
    notes = alert_annotations(notice)
    ended = notice.ends_at or (now if notice.status == "resolved" else None)
    group_labels = {"alertname": notice.rule, "subject": notice.subject}
    alert = {
        "status": notice.status,
        "labels": labels,
        "annotations": notes,
        "startsAt": rfc3339(notice.starts_at),
        "endsAt": rfc3339(ended) if ended is not None else ZERO_TIME,
        "generatorURL": notice.url or "",
        "fingerprint": fingerprint(labels),
    }
    return {
        "version": "4",
        "groupKey": _group_key(group_labels),
        "truncatedAlerts": 0,
        "status": notice.status,
        "receiver": receiver,
        "groupLabels": group_labels,
        "commonLabels": labels,
        "commonAnnotations": notes,
        "externalURL": _origin(notice.url),
        "alerts": [alert],
    }


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256 of ``timestamp.body``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: int | str | None,
    body: bytes,
    header: str | None,
    *,
    now: float,
    tolerance: float = 300,
) -> bool:
    """Whether ``header`` signs ``body`` at ``timestamp`` with ``secret``, and is fresh.

    ``now`` is unix seconds; a timestamp more than ``tolerance`` seconds away from it is
    rejected so a captured request cannot be replayed later.
    """
    if header is None or timestamp is None:
        return False
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance:
        return False
    expected = sign(secret, sent_at, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("utf-8"))


class WebhookChannel:
    """POSTs ``webhook_body`` to ``url``; signs it when a ``secret`` is configured."""

    kind = "webhook"

    def __init__(
        self,
        channel_id: str,
        url: str,
        *,
        secret: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.channel_id = channel_id
        self._url = url
        self._secret = secret
        self._clock = clock

    @classmethod
    def from_settings(cls, channel_id: str, settings: Mapping[str, Any]) -> WebhookChannel:
        """Build from ``url`` and an optional ``secret``."""
        where = _settings.label(cls.kind, channel_id)
        return cls(
            channel_id,
            _settings.http_url(settings, "url", where=where),
            secret=_settings.optional_str(settings, "secret", where=where),
        )

    def describe(self) -> str:
        """``webhook https://host/path`` and whether it is signed."""
        signed = " (signed)" if self._secret else ""
        return f"webhook {safe_url(self._url)}{signed}"

    async def send(self, notice: Notice, *, timeout: float) -> None:
        """POST the notice; raise ``DeliveryError`` unless the receiver accepts it."""
        now = self._clock()
        body = encode_json(
            webhook_body(notice, receiver=self.channel_id, now=datetime.fromtimestamp(now, UTC))
        )
        headers: dict[str, str] = {}
        if self._secret:
            timestamp = int(now)
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        await post_json(
            self._url,
            body,
            timeout=timeout,
            where=f"webhook {self.channel_id}",
            headers=headers,
            secrets=(self._secret, self._url),
        )


def _group_key(group_labels: Mapping[str, str]) -> str:
    """Alertmanager's shape, e.g. ``{}:{alertname="endpoint-down", subject="portal"}``."""
    pairs = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in group_labels.items())
    return "{}:{" + pairs + "}"


def _origin(url: str | None) -> str:
    """``scheme://host[:port]`` of the alert's link: the closest thing to our external URL."""
    if not url:
        return ""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")) if parts.netloc else ""
