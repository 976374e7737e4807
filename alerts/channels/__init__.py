"""Notification channels: one module per kind, one interface, one registry.

``build_channel(kind, channel_id, settings)`` turns a ``channels[]`` entry of the config
(secrets already unwrapped to plain strings) into a ``Channel``; ``CHANNELS`` maps each
kind to its factory. Every channel builds its request from a ``Notice`` with a pure
function and raises ``DeliveryError`` (``permanent`` or retryable) when a send fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from alerts.channels.alertmanager import AlertmanagerChannel
from alerts.channels.base import Channel, DeliveryError
from alerts.channels.email import EmailChannel
from alerts.channels.slack import SlackChannel
from alerts.channels.telegram import TelegramChannel
from alerts.channels.webhook import WebhookChannel

CHANNELS: dict[str, Callable[[str, Mapping[str, Any]], Channel]] = {
    "webhook": WebhookChannel.from_settings,
    "email": EmailChannel.from_settings,
    "telegram": TelegramChannel.from_settings,
    "slack": SlackChannel.from_settings,
    "alertmanager": AlertmanagerChannel.from_settings,
}
"""Channel kind -> factory ``(channel_id, settings) -> Channel``."""


def build_channel(kind: str, channel_id: str, settings: Mapping[str, Any]) -> Channel:
    """The channel of ``kind`` configured by ``settings``; ``ValueError`` if it can't be built.

    Unknown keys in ``settings`` are ignored: the config loader has validated them.
    """
    factory = CHANNELS.get(kind)
    if factory is None:
        known = ", ".join(sorted(CHANNELS))
        raise ValueError(f"channel {channel_id!r}: unknown kind {kind!r} (known: {known})")
    return factory(channel_id, settings)


__all__ = [
    "CHANNELS",
    "AlertmanagerChannel",
    "Channel",
    "DeliveryError",
    "EmailChannel",
    "SlackChannel",
    "TelegramChannel",
    "WebhookChannel",
    "build_channel",
]
