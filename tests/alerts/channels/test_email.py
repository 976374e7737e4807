"""E-mail channel: a real aiosmtpd server receives the alert in plain text and HTML."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest

from alerts.channels import DeliveryError, build_channel
from alerts.channels.email import EmailChannel, email_message
from tests.alerts.channels.samples import SUMMARY_VI, firing, resolved
from tests.alerts.channels.tls import self_signed_tls
from tests.receivers import SmtpReceiver, unused_port

PASSWORD = "smtp-pa55-w0rd"
FACTS = ["endpoint-down", "nghean-portal", "nghean", "critical", SUMMARY_VI, "Value", "3"]


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and the HTML part's decoded content."""
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


def channel_for(smtp: SmtpReceiver, **options: object) -> EmailChannel:
    settings = {"to": ["noc@example.gov.vn"], "smtp_host": smtp.host, "smtp_port": smtp.port}
    channel = build_channel("email", "mail", {**settings, **options})
    assert isinstance(channel, EmailChannel)
    return channel


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpReceiver]:
    async with SmtpReceiver() as running:
        yield running


def test_the_message_is_multipart_alternative_with_the_title_as_subject() -> None:
    message = email_message(firing(), sender="mc@example.gov.vn", to=["a@x.vn", "b@x.vn"])
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "[FIRING critical] endpoint-down nghean-portal"
    assert message["To"] == "a@x.vn, b@x.vn"
    text, html = parts(message)
    for fact in FACTS:
        assert fact in text
        assert fact in html
    assert "Started: " in text and "2024-05-01 01:02:03+00:00" in text


def test_html_values_are_escaped() -> None:
    _, html = parts(email_message(firing(summary="<b>bold</b> & co"), sender="a@b", to=["c@d"]))
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert "<b>bold</b>" not in html


async def test_an_email_arrives_with_the_alerts_details_in_both_parts(smtp: SmtpReceiver) -> None:
    await channel_for(smtp).send(resolved(), timeout=5)
    (message,) = await smtp.wait_for_messages(1)
    assert message["Subject"] == "[RESOLVED critical] endpoint-down nghean-portal"
    assert message["From"] == "monitor-center@localhost"
    assert message["Message-ID"] and message["Date"]
    assert smtp.envelopes == [("monitor-center@localhost", ["noc@example.gov.vn"])]
    text, html = parts(message)
    for fact in [*FACTS, "2024-05-01 01:02:03+00:00", "2024-05-01 01:09:30+00:00"]:
        assert fact in text
        assert fact in html


async def test_every_recipient_and_the_configured_sender_are_used(smtp: SmtpReceiver) -> None:
    to = ["a@example.gov.vn", "b@example.gov.vn"]
    await channel_for(smtp, to=to, **{"from": "alerts@mc.gov.vn"}).send(firing(), timeout=5)
    await smtp.wait_for_messages(1)
    assert smtp.envelopes == [("alerts@mc.gov.vn", to)]


async def test_smtp_451_is_retryable(smtp: SmtpReceiver) -> None:
    smtp.fail_next(451, text="4.3.0 try again later")
    with pytest.raises(DeliveryError, match=r"451 4\.3\.0 try again later") as caught:
        await channel_for(smtp).send(firing(), timeout=5)
    assert (caught.value.permanent, caught.value.status) == (False, 451)
    await channel_for(smtp).send(firing(), timeout=5)
    assert len(await smtp.wait_for_messages(1)) == 1
    assert smtp.attempts == 2


async def test_smtp_550_is_permanent(smtp: SmtpReceiver) -> None:
    smtp.fail_next(550, text="5.7.1 rejected")
    with pytest.raises(DeliveryError) as caught:
        await channel_for(smtp).send(firing(), timeout=5)
    assert (caught.value.permanent, caught.value.status) == (True, 550)
    assert smtp.messages == []


async def test_starttls_and_login_are_used_when_configured() -> None:
    tls = self_signed_tls()
    async with SmtpReceiver(tls_context=tls.server, credentials={"noc": PASSWORD}) as smtp:
        channel = EmailChannel(
            "mail",
            to=["noc@example.gov.vn"],
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            starttls=True,
            username="noc",
            password=PASSWORD,
            ssl_context=tls.client,
        )
        await channel.send(firing(), timeout=5)
        await smtp.wait_for_messages(1)
        assert smtp.logins == ["noc"]
    assert PASSWORD not in channel.describe()
    assert channel.describe() == (
        f"email to noc@example.gov.vn via 127.0.0.1:{smtp.port} (STARTTLS, login noc)"
    )


async def test_an_untrusted_certificate_is_permanent() -> None:
    tls = self_signed_tls()
    async with SmtpReceiver(tls_context=tls.server) as smtp:
        with pytest.raises(DeliveryError, match="certificate") as caught:
            await channel_for(smtp, starttls=True).send(firing(), timeout=5)
    assert caught.value.permanent


async def test_a_rejected_login_is_permanent_and_hides_the_password() -> None:
    async with SmtpReceiver(credentials={"noc": "the-real-one"}) as smtp:
        channel = channel_for(smtp, username="noc", password=PASSWORD)
        with pytest.raises(DeliveryError, match="login refused") as caught:
            await channel.send(firing(), timeout=5)
    assert (caught.value.permanent, caught.value.status) == (True, 535)
    assert PASSWORD not in str(caught.value) + channel.describe()
    assert smtp.messages == []


async def test_starttls_required_but_not_offered_is_permanent(smtp: SmtpReceiver) -> None:
    with pytest.raises(DeliveryError, match="STARTTLS") as caught:
        await channel_for(smtp, starttls=True).send(firing(), timeout=5)
    assert caught.value.permanent


async def test_connection_refused_is_retryable() -> None:
    channel = build_channel(
        "email", "mail", {"to": ["a@b.vn"], "smtp_host": "127.0.0.1", "smtp_port": unused_port()}
    )
    with pytest.raises(DeliveryError) as caught:
        await channel.send(firing(), timeout=2)
    assert not caught.value.permanent


async def test_a_server_that_never_greets_times_out() -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    channel = build_channel(
        "email", "mail", {"to": ["a@b.vn"], "smtp_host": "127.0.0.1", "smtp_port": port}
    )
    started = time.monotonic()
    try:
        with pytest.raises(DeliveryError) as caught:
            await channel.send(firing(), timeout=0.3)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert time.monotonic() - started < 2
    assert not caught.value.permanent
