"""The HTTP prober against a well-behaved server: status, body checks, timing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from collectors.http import HttpProber, ProbeSpec
from core.clock import FrozenClock
from tests.collectors.servers import (
    DEADLINE_SLACK,
    RawServer,
    keep_alive_ok,
    probe_timed,
    serve_raw,
)

TIMEOUT = 2.0


def spec(url: str, **changes: Any) -> ProbeSpec:
    return replace(ProbeSpec(endpoint_id="ep-1", url=url, timeout=TIMEOUT), **changes)


async def test_it_reports_a_healthy_endpoint_as_up_with_latency_phases(
    prober: HttpProber, app_url: str
) -> None:
    result, elapsed = await probe_timed(prober, spec(f"{app_url}/ok"))

    assert result.ok, result.reason
    assert result.reason is None
    assert result.status == 200
    assert result.endpoint_id == "ep-1"
    latency = result.latency
    assert latency.connect is not None
    assert latency.connect > 0
    assert latency.first_byte is not None
    assert latency.first_byte > 0
    assert latency.total >= latency.first_byte + latency.connect
    assert latency.tls is None  # plain HTTP
    assert result.cert_expiry_days is None
    assert elapsed < TIMEOUT


async def test_it_stamps_the_result_with_the_clock_time_at_probe_start(app_url: str) -> None:
    clock = FrozenClock(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    async with HttpProber(clock=clock) as prober:
        result = await prober.probe(spec(f"{app_url}/ok"))

    assert result.ok
    assert result.time == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_it_reports_an_unexpected_status(prober: HttpProber, app_url: str) -> None:
    result, elapsed = await probe_timed(prober, spec(f"{app_url}/status/503"))

    assert not result.ok
    assert result.reason == "status 503"
    assert result.status == 503
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_accepts_a_status_listed_as_expected(prober: HttpProber, app_url: str) -> None:
    result = await prober.probe(spec(f"{app_url}/status/503", expect_status=frozenset({503})))

    assert result.ok, result.reason


async def test_it_reports_a_body_mismatch(prober: HttpProber, app_url: str) -> None:
    result, elapsed = await probe_timed(
        prober, spec(f"{app_url}/ok", body_contains="maintenance page")
    )

    assert not result.ok
    assert result.reason == "body mismatch"
    assert result.status == 200
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_passes_when_the_body_contains_the_text(prober: HttpProber, app_url: str) -> None:
    result = await prober.probe(spec(f"{app_url}/ok", body_contains="service is ok"))

    assert result.ok, result.reason


async def test_it_reports_a_non_utf8_body_without_assertions_as_up(
    prober: HttpProber, app_url: str
) -> None:
    result = await prober.probe(spec(f"{app_url}/non-utf8"))

    assert result.ok, result.reason


async def test_it_matches_body_text_in_a_non_utf8_body(prober: HttpProber, app_url: str) -> None:
    found = await prober.probe(spec(f"{app_url}/non-utf8", body_contains="service ok"))
    missing = await prober.probe(spec(f"{app_url}/non-utf8", body_contains="café"))

    assert found.ok, found.reason
    assert not missing.ok
    assert missing.reason == "body mismatch"


async def test_it_passes_when_the_json_path_value_equals(prober: HttpProber, app_url: str) -> None:
    text = await prober.probe(spec(f"{app_url}/json", json_path="$.status.db", equals="up"))
    number = await prober.probe(spec(f"{app_url}/json", json_path="$.status.replicas", equals=3.0))
    nested = await prober.probe(spec(f"{app_url}/json", json_path="$.items", equals=[1, 2]))

    assert text.ok, text.reason
    assert number.ok, number.reason
    assert nested.ok, nested.reason


async def test_it_passes_when_the_json_path_matches_and_no_value_is_expected(
    prober: HttpProber, app_url: str
) -> None:
    result = await prober.probe(spec(f"{app_url}/json", json_path="$.items[?(@ > 1)]"))

    assert result.ok, result.reason


async def test_it_reports_a_json_path_value_mismatch(prober: HttpProber, app_url: str) -> None:
    result, elapsed = await probe_timed(
        prober, spec(f"{app_url}/json", json_path="$.status.db", equals="down")
    )

    assert not result.ok
    assert result.reason == 'json_path value mismatch: expected "down", got "up"'
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_compares_json_values_by_json_type(prober: HttpProber, app_url: str) -> None:
    # JSON true is not the number 1, even though Python says True == 1.
    result = await prober.probe(spec(f"{app_url}/json", json_path="$.status.primary", equals=1))

    assert not result.ok
    assert result.reason == "json_path value mismatch: expected 1, got true"


async def test_it_keeps_a_mismatch_reason_short(prober: HttpProber, app_url: str) -> None:
    result = await prober.probe(spec(f"{app_url}/json", json_path="$.status", equals="x" * 5000))

    assert not result.ok
    assert result.reason is not None
    assert result.reason.startswith("json_path value mismatch: expected ")
    assert len(result.reason) <= 200


async def test_it_reports_a_json_path_that_matches_nothing(
    prober: HttpProber, app_url: str
) -> None:
    result = await prober.probe(spec(f"{app_url}/json", json_path="$.status.cache", equals="up"))

    assert not result.ok
    assert result.reason == "json_path matched nothing"


async def test_it_reports_a_body_that_is_not_json(prober: HttpProber, app_url: str) -> None:
    result, elapsed = await probe_timed(prober, spec(f"{app_url}/ok", json_path="$.status"))

    assert not result.ok
    assert result.reason == "body is not JSON"
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_reports_absurdly_nested_json_as_not_json(
    prober: HttpProber, app_url: str
) -> None:
    result = await prober.probe(spec(f"{app_url}/deep-json", json_path="$[0]"))

    assert not result.ok
    assert result.reason == "body is not JSON"


async def test_it_reports_an_invalid_json_path(prober: HttpProber, app_url: str) -> None:
    result = await prober.probe(spec(f"{app_url}/json", json_path="$[?(@.x =="))

    assert not result.ok
    assert result.reason is not None
    assert result.reason.startswith("invalid json_path")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://files.example/x", "unsupported scheme 'ftp'"),
        ("not a url", "invalid url 'not a url'"),
    ],
)
async def test_it_reports_an_unusable_url(prober: HttpProber, url: str, reason: str) -> None:
    result = await prober.probe(spec(url))

    assert not result.ok
    assert result.reason == reason


async def test_it_opens_a_fresh_connection_for_every_probe(prober: HttpProber) -> None:
    # The server would happily keep the connection alive; the prober must not reuse it.
    server: RawServer
    async with serve_raw(keep_alive_ok) as server:
        results = [await prober.probe(spec(f"{server.url}/health")) for _ in range(3)]

        assert all(r.ok for r in results), [r.reason for r in results]
        assert server.accepted == 3


async def test_it_reports_failures_after_it_was_closed(app_url: str) -> None:
    prober = HttpProber(clock=FrozenClock(datetime(2030, 1, 1, tzinfo=UTC)))
    await prober.close()

    result = await prober.probe(spec(f"{app_url}/ok"))

    assert not result.ok
    assert result.reason == "prober closed"
