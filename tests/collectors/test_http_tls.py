"""The HTTP prober over TLS: certificate problems, expiry and handshake timing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from collectors.http import HttpProber, ProbeSpec
from core.clock import FrozenClock
from tests.collectors.certs import LEAF_VALID_DAYS, CertFiles, Pki
from tests.collectors.servers import (
    DEADLINE_SLACK,
    healthy_app,
    never_answer,
    probe_timed,
    serve_app,
    serve_raw,
)

TIMEOUT = 1.0


def spec(url: str) -> ProbeSpec:
    return ProbeSpec(endpoint_id="tls", url=url, timeout=TIMEOUT)


@asynccontextmanager
async def https_server(cert: CertFiles) -> AsyncIterator[str]:
    async with serve_app(healthy_app(), cert.server_context()) as url:
        yield url


async def test_it_reports_an_https_endpoint_as_up_with_tls_timing_and_expiry(pki: Pki) -> None:
    clock = FrozenClock(datetime.now(UTC))
    async with (
        https_server(pki.valid) as url,
        HttpProber(clock=clock, ssl_context=pki.client_context()) as prober,
    ):
        result, elapsed = await probe_timed(prober, spec(f"{url}/ok"))

    assert result.ok, result.reason
    assert result.status == 200
    latency = result.latency
    assert latency.connect is not None
    assert latency.connect > 0
    assert latency.tls is not None
    assert latency.tls > 0
    assert latency.first_byte is not None
    assert latency.first_byte > 0
    assert latency.total >= latency.connect + latency.tls + latency.first_byte
    assert result.cert_expiry_days is not None
    assert abs(result.cert_expiry_days - LEAF_VALID_DAYS) < 0.01
    assert elapsed < TIMEOUT


async def test_it_reports_an_expired_certificate(prober: HttpProber, pki: Pki) -> None:
    async with https_server(pki.expired) as url:
        result, elapsed = await probe_timed(prober, spec(f"{url}/ok"))

    assert not result.ok
    assert result.reason == "tls: certificate expired"
    assert result.latency.connect is not None
    assert result.latency.tls is None  # the handshake never completed
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_reports_a_self_signed_certificate(prober: HttpProber, pki: Pki) -> None:
    async with https_server(pki.self_signed) as url:
        result, elapsed = await probe_timed(prober, spec(f"{url}/ok"))

    assert not result.ok
    assert result.reason == "tls: self-signed certificate"
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_reports_a_hostname_mismatch(prober: HttpProber, pki: Pki) -> None:
    async with https_server(pki.wrong_host) as url:
        result, elapsed = await probe_timed(prober, spec(f"{url}/ok"))

    assert not result.ok
    assert result.reason == "tls: hostname mismatch"
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_reports_an_unknown_certificate_authority(pki: Pki) -> None:
    # The default context trusts the system store, which does not know the test CA.
    async with https_server(pki.valid) as url, HttpProber(clock=FrozenClock(_now())) as prober:
        result = await prober.probe(spec(f"{url}/ok"))

    assert not result.ok
    assert result.reason == "tls: unable to get local issuer certificate"


async def test_it_times_out_when_the_tls_handshake_never_completes(prober: HttpProber) -> None:
    async with serve_raw(never_answer) as server:
        url = server.url.replace("http://", "https://")
        result, elapsed = await probe_timed(prober, spec(f"{url}/"))

    assert not result.ok
    assert result.reason == "timeout"
    assert result.latency.connect is not None  # TCP worked ...
    assert result.latency.tls is None  # ... TLS did not
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_reports_tls_spoken_to_a_plain_http_server(
    prober: HttpProber, app_url: str
) -> None:
    result = await prober.probe(spec(app_url.replace("http://", "https://") + "/ok"))

    assert not result.ok
    assert result.reason is not None
    assert result.reason.startswith("tls: ")


def _now() -> datetime:
    return datetime.now(UTC)
