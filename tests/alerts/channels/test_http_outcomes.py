"""How an HTTP channel's outcome is classified for the outbox: retry, give up, or wait.

Driven through the webhook channel against a real loopback receiver; every HTTP channel
shares the same helper.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from alerts.channels import DeliveryError
from alerts.channels._http import parse_retry_after, redact, safe_url
from alerts.channels.webhook import WebhookChannel
from tests.alerts.channels.samples import firing
from tests.receivers import Receiver, Reply, unused_port

SECRET = "whsec-very-secret-value"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running


async def failure(receiver: Receiver, *replies: Reply, timeout: float = 5.0) -> DeliveryError:
    receiver.script(*replies)
    channel = WebhookChannel("ops", receiver.url + "/hook", secret=SECRET)
    with pytest.raises(DeliveryError) as caught:
        await channel.send(firing(), timeout=timeout)
    assert SECRET not in str(caught.value)
    return caught.value


async def test_a_2xx_answer_is_delivered(receiver: Receiver) -> None:
    receiver.script(Reply(204))
    await WebhookChannel("ops", receiver.url).send(firing(), timeout=5)
    assert len(receiver.requests) == 1


async def test_it_treats_503_as_retryable(receiver: Receiver) -> None:
    error = await failure(receiver, Reply(503, body=b"upstream   down\n"))
    assert (error.permanent, error.status, error.retry_after) == (False, 503, None)
    assert "HTTP 503: upstream down" in str(error)


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_every_5xx_is_retryable(receiver: Receiver, status: int) -> None:
    assert not (await failure(receiver, Reply(status))).permanent


async def test_404_is_permanent(receiver: Receiver) -> None:
    error = await failure(receiver, Reply(404, body=b"no such hook"))
    assert (error.permanent, error.status) == (True, 404)
    assert "no such hook" in str(error)


@pytest.mark.parametrize("status", [400, 401, 403, 410, 422])
async def test_other_4xx_are_permanent(receiver: Receiver, status: int) -> None:
    assert (await failure(receiver, Reply(status))).permanent


async def test_408_is_retryable(receiver: Receiver) -> None:
    assert not (await failure(receiver, Reply(408))).permanent


async def test_429_retry_after_is_reported(receiver: Receiver) -> None:
    error = await failure(receiver, Reply(429, {"Retry-After": "120"}))
    assert (error.permanent, error.status, error.retry_after) == (False, 429, 120.0)


async def test_429_retry_after_as_an_http_date_is_reported_in_seconds(receiver: Receiver) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    error = await failure(receiver, Reply(429, {"Retry-After": later}))
    assert error.retry_after is not None
    assert 80 <= error.retry_after <= 90


async def test_a_503_retry_after_is_reported_too(receiver: Receiver) -> None:
    assert (await failure(receiver, Reply(503, {"Retry-After": "7"}))).retry_after == 7.0


async def test_a_hanging_receiver_times_out(receiver: Receiver) -> None:
    receiver.hang()
    started = time.monotonic()
    error = await failure(receiver, timeout=0.3)
    assert time.monotonic() - started < 2
    assert not error.permanent
    assert "no answer within 0.3s" in str(error)
    assert len(receiver.requests) == 1


async def test_connection_refused_is_retryable() -> None:
    channel = WebhookChannel("ops", f"http://127.0.0.1:{unused_port()}/hook", secret=SECRET)
    with pytest.raises(DeliveryError) as caught:
        await channel.send(firing(), timeout=2)
    assert not caught.value.permanent
    assert caught.value.status is None
    assert SECRET not in str(caught.value)


async def test_redirects_are_not_followed(receiver: Receiver) -> None:
    error = await failure(receiver, Reply(302, {"Location": receiver.url + "/elsewhere"}))
    assert (error.permanent, error.status) == (True, 302)
    assert "redirects are not followed" in str(error)
    assert [r.path for r in receiver.requests] == ["/hook"]


async def test_a_huge_error_page_is_quoted_briefly(receiver: Receiver) -> None:
    error = await failure(receiver, Reply(500, body=b"x" * 1_000_000))
    assert len(str(error)) < 300


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("30", 30.0),
        (" 2.5 ", 2.5),
        ("-4", 0.0),
        ("Wed, 01 May 2024 08:01:00 GMT", 60.0),
        ("Wed, 01 May 2024 07:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    now = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds


def test_redaction_hides_a_secret_and_its_url_encoded_form() -> None:
    text = "GET /bot12:ab/x?t=12%3Aab failed"
    assert redact(text, ["12:ab", None, ""]) == "GET /bot***/x?t=*** failed"


def test_a_displayed_url_drops_credentials_and_query() -> None:
    url = "https://user:pw@hooks.example.org:8443/in/path?token=abc#frag"
    assert safe_url(url) == "https://hooks.example.org:8443/in/path"
    assert safe_url(url, keep_path=False) == "https://hooks.example.org:8443/…"
