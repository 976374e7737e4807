"""POST a JSON body with aiohttp and sort every outcome into success or a ``DeliveryError``.

The rules the outbox relies on: 2xx is delivered; 5xx, 408, 429, timeouts and connection
errors are worth retrying; 3xx (redirects are never followed, so a moved receiver is
noticed rather than silently trusted) and other 4xx are permanent. No message carries a
secret: callers pass theirs in ``secrets`` and every message is scrubbed.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from alerts.channels.base import DeliveryError

USER_AGENT = "monitor-center-alerts/1"
MAX_BODY = 64 * 1024  # enough for any error page worth quoting; receivers can't flood us
SNIPPET = 200


@dataclass(frozen=True, slots=True)
class HttpReply:
    """A receiver's answer: status, headers (case-insensitive) and the first bytes of body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def text(self) -> str:
        """The body decoded leniently."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it isn't."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON, the exact bytes that are sent (and signed)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret (and its URL-encoded form) replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


def safe_url(url: str, *, keep_path: bool = True) -> str:
    """``url`` for display: no user:password, no query or fragment, optionally no path."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    path = parts.path if keep_path else ("/…" if parts.path.strip("/") else "")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def snippet(text: str) -> str:
    """The start of a response body on one line, for an error message."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


async def post(
    url: str,
    body: bytes,
    *,
    timeout: float,
    where: str,
    headers: Mapping[str, str] | None = None,
    secrets: Iterable[str | None] = (),
) -> HttpReply:
    """POST ``body`` as JSON; return any HTTP answer, raise ``DeliveryError`` on no answer."""
    secrets = tuple(secrets)
    sent_headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    sent_headers.update(headers or {})
    try:
        # asyncio.timeout bounds the whole exchange, including reading the body.
        async with (
            asyncio.timeout(timeout),
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(url, data=body, headers=sent_headers, allow_redirects=False) as resp,
        ):
            return HttpReply(resp.status, _frozen(resp.headers), await _read_capped(resp))
    except TimeoutError:
        raise DeliveryError(f"{where}: no answer within {timeout:g}s") from None
    except aiohttp.InvalidURL:
        raise DeliveryError(f"{where}: invalid URL", permanent=True) from None
    except (aiohttp.ClientError, OSError) as exc:
        # "from None": a chained aiohttp error may quote the URL, and with it a token.
        message = f"{where}: {type(exc).__name__}: {exc}"
        raise DeliveryError(redact(message, secrets)) from None


def classify(
    reply: HttpReply,
    *,
    where: str,
    secrets: Iterable[str | None] = (),
    detail: str | None = None,
    retry_after: float | None = None,
) -> None:
    """Return for 2xx; otherwise raise the ``DeliveryError`` the status calls for.

    ``detail`` replaces the body snippet in the message and ``retry_after`` the
    ``Retry-After`` header, for receivers (Telegram) that explain themselves in JSON.
    """
    status = reply.status
    if 200 <= status < 300:
        return
    explained = detail if detail is not None else snippet(reply.text())
    message = redact(f"{where}: HTTP {status}" + (f": {explained}" if explained else ""), secrets)
    if 300 <= status < 400:
        message += " (redirects are not followed)"
        raise DeliveryError(message, permanent=True, status=status)
    if 400 <= status < 500 and status not in (408, 429):
        raise DeliveryError(message, permanent=True, status=status)
    if retry_after is None:
        retry_after = parse_retry_after(reply.headers.get("Retry-After"))
    raise DeliveryError(message, retry_after=retry_after, status=status)


async def post_json(
    url: str,
    payload: Any,
    *,
    timeout: float,
    where: str,
    headers: Mapping[str, str] | None = None,
    secrets: Iterable[str | None] = (),
) -> HttpReply:
    """POST ``payload`` (bytes are sent as they are) and raise unless it was accepted."""
    body = payload if isinstance(payload, bytes) else encode_json(payload)
    secrets = tuple(secrets)
    reply = await post(url, body, timeout=timeout, where=where, headers=headers, secrets=secrets)
    classify(reply, where=where, secrets=secrets)
    return reply


def _frozen(headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(headers))


async def _read_capped(resp: aiohttp.ClientResponse) -> bytes:
    data = bytearray()
    async for chunk in resp.content.iter_chunked(8192):
        data += chunk
        if len(data) >= MAX_BODY:
            break
    return bytes(data[:MAX_BODY])
