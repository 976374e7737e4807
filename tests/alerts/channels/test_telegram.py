"""Telegram channel: Bot API sendMessage with HTML text; the bot token never leaks."""

from __future__ import annotations

import pytest

from alerts.channels import DeliveryError
from alerts.channels.telegram import TelegramChannel, telegram_body, telegram_text
from tests.alerts.channels.samples import SUMMARY_VI, firing, resolved
from tests.receivers import Receiver, Reply

TOKEN = "7012345678:AAH-secret_token_value"
OK = Reply.of_json({"ok": True, "result": {"message_id": 1}})


def test_the_body_is_html_to_the_chat_without_link_previews() -> None:
    body = telegram_body(firing(), chat_id="-100200300")
    assert body["chat_id"] == "-100200300"
    assert body["parse_mode"] == "HTML"
    assert body["disable_web_page_preview"] is True
    assert body["text"] == telegram_text(firing())


def test_the_text_has_the_headline_summary_and_facts() -> None:
    text = telegram_text(firing())
    assert text.startswith("🔴 <b>[FIRING critical] endpoint-down nghean-portal</b>\n")
    assert SUMMARY_VI in text
    assert "<b>Agency:</b> nghean" in text
    assert "<b>Value:</b> 3" in text
    assert '<a href="https://monitor.example.gov.vn/alerts/42">' in text


def test_a_resolved_text_shows_when_it_ended() -> None:
    text = telegram_text(resolved())
    assert text.startswith("✅ <b>[RESOLVED critical]")
    assert "<b>Ended:</b> 2024-05-01 01:09:30+00:00" in text


def test_values_are_html_escaped() -> None:
    text = telegram_text(firing(summary="<script> & co", subject='"x"<y>'))
    assert "&lt;script&gt; &amp; co" in text
    assert "<script>" not in text
    assert "&lt;y&gt;" in text


def test_a_very_long_summary_is_shortened_below_telegrams_limit() -> None:
    assert len(telegram_text(firing(summary="x" * 10_000))) < 4096


async def test_a_message_is_sent_to_the_bot_api_at_the_configured_base_url() -> None:
    async with Receiver(default=OK) as receiver:
        channel = TelegramChannel("tg", TOKEN, "-100200300", base_url=receiver.url + "/")
        await channel.send(firing(), timeout=5)
        (request,) = await receiver.wait_for_requests(1)
    assert (request.method, request.path) == ("POST", f"/bot{TOKEN}/sendMessage")
    assert request.json["chat_id"] == "-100200300"
    assert SUMMARY_VI in request.json["text"]


async def test_telegrams_retry_after_is_honoured_on_429() -> None:
    too_many = Reply.of_json(
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 17",
            "parameters": {"retry_after": 17},
        },
        status=429,
    )
    async with Receiver() as receiver:
        receiver.script(too_many)
        with pytest.raises(DeliveryError) as caught:
            await TelegramChannel("tg", TOKEN, "1", base_url=receiver.url).send(firing(), timeout=5)
    assert (caught.value.permanent, caught.value.retry_after, caught.value.status) == (
        False,
        17,
        429,
    )
    assert "Too Many Requests: retry after 17" in str(caught.value)


async def test_telegrams_error_description_is_reported_and_4xx_is_permanent() -> None:
    not_found = Reply.of_json(
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, status=400
    )
    async with Receiver() as receiver:
        receiver.script(not_found)
        with pytest.raises(DeliveryError) as caught:
            await TelegramChannel("tg", TOKEN, "1", base_url=receiver.url).send(firing(), timeout=5)
    assert caught.value.permanent
    assert str(caught.value) == "telegram chat 1: HTTP 400: Bad Request: chat not found"


async def test_ok_false_with_200_is_a_permanent_refusal() -> None:
    async with Receiver(default=Reply.of_json({"ok": False, "description": "nope"})) as receiver:
        with pytest.raises(DeliveryError, match="refused: nope") as caught:
            await TelegramChannel("tg", TOKEN, "1", base_url=receiver.url).send(firing(), timeout=5)
    assert caught.value.permanent


async def test_the_bot_token_never_appears_in_errors_or_the_description() -> None:
    echo = Reply.of_json({"ok": False, "description": f"Unauthorized bot{TOKEN}"}, status=401)
    async with Receiver() as receiver:
        receiver.script(echo, Reply(502, body=f"gateway error at /bot{TOKEN}/".encode()))
        channel = TelegramChannel("tg", TOKEN, "1", base_url=receiver.url)
        messages = []
        for _ in range(2):
            with pytest.raises(DeliveryError) as caught:
                await channel.send(firing(), timeout=5)
            messages.append(str(caught.value))
    # The receiver has stopped: now a connection error, whose text names the host only.
    with pytest.raises(DeliveryError) as refused:
        await channel.send(firing(), timeout=2)
    messages.append(str(refused.value))
    for text in [*messages, channel.describe()]:
        assert TOKEN not in text
        assert "secret_token" not in text
    assert "***" in messages[0]
