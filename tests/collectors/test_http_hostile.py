"""The HTTP prober against broken and hostile servers: it must fail fast and say why."""

from __future__ import annotations

import asyncio
from time import perf_counter

import pytest

from collectors.http import HttpProber, ProbeSpec
from tests.collectors.servers import (
    DEADLINE_SLACK,
    Handler,
    drip_feed_body,
    drip_feed_headers,
    garbage,
    hang_up,
    lying_length,
    never_answer,
    probe_timed,
    refusing_url,
    reset,
    serve_raw,
)

TIMEOUT = 1.0


def spec(url: str, timeout: float = TIMEOUT) -> ProbeSpec:
    return ProbeSpec(endpoint_id="hostile", url=url, timeout=timeout)


async def test_it_reports_connection_refused(prober: HttpProber) -> None:
    with refusing_url() as url:
        result, elapsed = await probe_timed(prober, spec(url))

    assert not result.ok
    assert result.reason == "connection refused"
    assert result.status is None
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_reports_a_dns_failure(prober: HttpProber) -> None:
    # .invalid is reserved (RFC 2606) and never resolves.
    result, elapsed = await probe_timed(prober, spec("http://no-such-host.invalid/", 3.0))

    assert not result.ok
    assert result.reason is not None
    assert result.reason.startswith("dns: ")
    assert elapsed < 3.0 + DEADLINE_SLACK


async def test_it_times_out_on_a_server_that_never_answers(prober: HttpProber) -> None:
    async with serve_raw(never_answer) as server:
        result, elapsed = await probe_timed(prober, spec(f"{server.url}/"))

    assert not result.ok
    assert result.reason == "timeout"
    assert result.latency.connect is not None  # it got as far as connecting
    assert result.latency.first_byte is None
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + DEADLINE_SLACK


@pytest.mark.parametrize("handler", [drip_feed_body, drip_feed_headers])
async def test_it_times_out_at_the_deadline_on_a_drip_feeding_server(
    prober: HttpProber, handler: Handler
) -> None:
    async with serve_raw(handler) as server:
        result, elapsed = await probe_timed(prober, spec(f"{server.url}/"))

    assert not result.ok
    assert result.reason == "timeout"
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_stops_reading_an_endless_body_at_the_cap(
    prober: HttpProber, app_url: str
) -> None:
    result, elapsed = await probe_timed(prober, spec(f"{app_url}/endless", timeout=5.0))

    assert not result.ok
    assert result.reason == "body too large (> 1048576 bytes)"
    assert result.status == 200
    assert elapsed < 2.0  # promptly: far from the 5 s deadline, let alone 1 GiB of reading


async def test_it_stops_a_gzip_bomb_at_the_cap(prober: HttpProber, app_url: str) -> None:
    result, elapsed = await probe_timed(prober, spec(f"{app_url}/gzip-bomb", timeout=5.0))

    assert not result.ok
    assert result.reason == "body too large (> 1048576 bytes)"
    assert elapsed < 2.0


async def test_it_reports_a_body_shorter_than_its_content_length(prober: HttpProber) -> None:
    async with serve_raw(lying_length) as server:
        result, elapsed = await probe_timed(prober, spec(f"{server.url}/"))

    assert not result.ok
    assert result.reason == "body incomplete (connection closed early)"
    assert elapsed < TIMEOUT  # a failure, not a hang until the deadline


async def test_it_reports_a_server_that_hangs_up(prober: HttpProber) -> None:
    async with serve_raw(hang_up) as server:
        result, elapsed = await probe_timed(prober, spec(f"{server.url}/"))

    assert not result.ok
    assert result.reason == "server disconnected"
    assert elapsed < TIMEOUT


async def test_it_reports_a_connection_reset(prober: HttpProber) -> None:
    async with serve_raw(reset) as server:
        result, elapsed = await probe_timed(prober, spec(f"{server.url}/"))

    assert not result.ok
    assert result.reason == "connection reset"
    assert elapsed < TIMEOUT


async def test_it_reports_a_response_that_is_not_http(prober: HttpProber) -> None:
    async with serve_raw(garbage) as server:
        result, elapsed = await probe_timed(prober, spec(f"{server.url}/"))

    assert not result.ok
    assert result.reason is not None
    assert result.reason.startswith("invalid response: ")
    assert len(result.reason) <= 200
    assert elapsed < TIMEOUT


async def test_hostile_endpoints_do_not_delay_a_healthy_one(
    prober: HttpProber, app_url: str
) -> None:
    async with serve_raw(never_answer) as tarpit:
        started = perf_counter()
        stuck = [
            asyncio.create_task(prober.probe(spec(f"{tarpit.url}/{i}", timeout=2.0)))
            for i in range(50)
        ]
        healthy = await prober.probe(spec(f"{app_url}/ok"))
        healthy_elapsed = perf_counter() - started
        stuck_results = await asyncio.gather(*stuck)
        stuck_elapsed = perf_counter() - started

    assert healthy.ok, healthy.reason
    assert healthy_elapsed < 0.5
    assert tarpit.accepted == 50
    assert {r.reason for r in stuck_results} == {"timeout"}
    assert stuck_elapsed < 2.0 + DEADLINE_SLACK


async def test_it_lets_a_cancelled_probe_raise_cancelled_error_promptly(
    prober: HttpProber,
) -> None:
    async with serve_raw(never_answer) as tarpit:
        task = asyncio.create_task(prober.probe(spec(f"{tarpit.url}/", timeout=30.0)))
        await tarpit.connected.wait()
        started = perf_counter()
        task.cancel()

        with pytest.raises(asyncio.CancelledError):
            await task
    assert perf_counter() - started < 0.5
