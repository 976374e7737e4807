"""E-mail channel: SMTP with optional STARTTLS and login, plain text plus HTML.

smtplib is blocking, so a send runs in a worker thread under an overall deadline; the
socket timeout makes the thread itself give up soon after. SMTP 4xx, dropped
connections and timeouts are retried; 5xx and rejected credentials are permanent.
"""

from __future__ import annotations

import asyncio
import html
import logging
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from alerts.channels import _settings
from alerts.channels._http import redact
from alerts.channels._text import details
from alerts.channels.base import DeliveryError
from alerts.notice import Notice

DEFAULT_FROM = "monitor-center@localhost"
log = logging.getLogger(__name__)


def email_text(notice: Notice) -> str:
    """The plain-text part."""
    width = max(len(name) for name, _ in details(notice))
    lines = [notice.title, "", notice.summary, ""]
    lines += [f"{name + ':':<{width + 1}} {value}" for name, value in details(notice)]
    if notice.url:
        lines += ["", notice.url]
    lines += ["", f"-- {notice.center}"]
    return "\n".join(lines) + "\n"


def email_html(notice: Notice) -> str:
    """The HTML part: the same facts in a table, every value escaped."""
    color = "#2eb886" if notice.status == "resolved" else "#d00000"
    rows = "\n".join(
        f'<tr><th align="left" style="padding-right:1em">{html.escape(name)}</th>'
        f"<td>{html.escape(value)}</td></tr>"
        for name, value in details(notice)
    )
    link = (
        f'<p><a href="{html.escape(notice.url)}">Open in {html.escape(notice.center)}</a></p>'
        if notice.url
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        f'<h2 style="color:{color}">{html.escape(notice.title)}</h2>\n'
        f"<p>{html.escape(notice.summary)}</p>\n"
        f"<table>\n{rows}\n</table>\n{link}\n"
        f"<p><small>{html.escape(notice.center)}</small></p>\n</body></html>\n"
    )


def email_message(notice: Notice, *, sender: str, to: Sequence[str]) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) with Subject = ``notice.title``."""
    message = EmailMessage()
    message["Subject"] = notice.title
    message["From"] = sender
    message["To"] = ", ".join(to)
    # quoted-printable keeps the body 7-bit, so servers without 8BITMIME take it too.
    message.set_content(email_text(notice), cte="quoted-printable")
    message.add_alternative(email_html(notice), subtype="html", cte="quoted-printable")
    return message


def smtp_error(exc: BaseException, *, where: str, secrets: Sequence[str | None]) -> DeliveryError:
    """The ``DeliveryError`` for an SMTP failure: 4xx/network retried, 5xx/auth permanent."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        permanent = bool(codes) and all(code >= 500 for code in codes)
        message = f"{where}: every recipient refused ({', '.join(map(str, codes))})"
        return DeliveryError(
            redact(message, secrets), permanent=permanent, status=codes[-1] if codes else None
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The server lacks STARTTLS or AUTH: a configuration problem, retrying won't help.
        return DeliveryError(redact(f"{where}: {exc}", secrets), permanent=True)
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(
        exc, smtplib.SMTPConnectError
    ):
        code = exc.smtp_code
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        what = "login refused" if isinstance(exc, smtplib.SMTPAuthenticationError) else "refused"
        message = redact(f"{where}: {what}: {code} {text}", secrets)
        return DeliveryError(message, permanent=not 400 <= code < 500, status=code)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryError(
            f"{where}: TLS certificate not trusted: {exc.verify_message}", permanent=True
        )
    if isinstance(exc, TimeoutError):
        return DeliveryError(f"{where}: timed out")
    return DeliveryError(redact(f"{where}: {type(exc).__name__}: {exc}", secrets))


class EmailChannel:
    """Sends ``email_message`` through an SMTP server."""

    kind = "email"

    def __init__(
        self,
        channel_id: str,
        *,
        to: Sequence[str],
        smtp_host: str,
        smtp_port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        sender: str = DEFAULT_FROM,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.channel_id = channel_id
        self._to = list(to)
        self._host = smtp_host
        self._port = smtp_port or (587 if starttls else 25)
        self._username = username
        self._password = password
        self._starttls = starttls
        self._sender = sender
        # Injected by tests that trust their own certificate; otherwise the system's CAs.
        self._ssl_context = ssl_context

    @classmethod
    def from_settings(cls, channel_id: str, settings: Mapping[str, Any]) -> EmailChannel:
        """Build from ``to``, ``smtp_host`` and the optional port, login, STARTTLS, from."""
        where = _settings.label(cls.kind, channel_id)
        return cls(
            channel_id,
            to=_settings.str_list(settings, "to", where=where),
            smtp_host=_settings.required_str(settings, "smtp_host", where=where),
            smtp_port=_settings.optional_port(settings, "smtp_port", where=where),
            username=_settings.optional_str(settings, "username", where=where),
            password=_settings.optional_str(settings, "password", where=where),
            starttls=_settings.optional_bool(settings, "starttls", where=where, default=False),
            sender=_settings.optional_str(settings, "from", where=where) or DEFAULT_FROM,
        )

    def describe(self) -> str:
        """``email to a@x, b@y via host:port`` with STARTTLS and login user; no password."""
        extras = [flag for flag, on in (("STARTTLS", self._starttls),) if on]
        if self._username:
            extras.append(f"login {self._username}")
        suffix = f" ({', '.join(extras)})" if extras else ""
        return f"email to {', '.join(self._to)} via {self._host}:{self._port}{suffix}"

    async def send(self, notice: Notice, *, timeout: float) -> None:
        """Deliver the message within ``timeout`` seconds or raise ``DeliveryError``."""
        message = email_message(notice, sender=self._sender, to=self._to)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        try:
            async with asyncio.timeout(timeout):
                await asyncio.to_thread(self._deliver, message, timeout)
        except TimeoutError:
            raise DeliveryError(f"{self._where()}: no answer within {timeout:g}s") from None

    def _where(self) -> str:
        return f"email {self.channel_id} via {self._host}:{self._port}"

    def _deliver(self, message: EmailMessage, timeout: float) -> None:
        """The blocking SMTP conversation (runs in a worker thread)."""
        try:
            with smtplib.SMTP(self._host, self._port, timeout=timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                refused = smtp.send_message(message, from_addr=self._sender, to_addrs=self._to)
        except (smtplib.SMTPException, OSError) as exc:
            # "from None" so a traceback never carries the login exchange along.
            raise smtp_error(exc, where=self._where(), secrets=(self._password,)) from None
        if refused:
            # Some recipients took it: retrying would mail them twice, so only log.
            log.warning("%s: refused by %s", self._where(), ", ".join(sorted(refused)))
