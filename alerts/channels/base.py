"""The one small interface every channel implements, and its error."""

from __future__ import annotations

from typing import Protocol

from alerts.notice import Notice


class DeliveryError(Exception):
    """A send failed. ``permanent`` failures are never retried.

    ``retry_after`` (seconds) is the receiver's own request (HTTP 429 ``Retry-After``,
    Telegram's ``parameters.retry_after``); ``status`` the HTTP or SMTP code if any.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.status = status


class Channel(Protocol):
    """A configured destination. ``send`` raises ``DeliveryError`` on any failure."""

    channel_id: str
    kind: str

    def describe(self) -> str:
        """Where it sends, without secrets (for logs and the API)."""
        ...

    async def send(self, notice: Notice, *, timeout: float) -> None:
        """Deliver one notice within ``timeout`` seconds or raise ``DeliveryError``."""
        ...
