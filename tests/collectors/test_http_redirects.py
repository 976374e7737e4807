"""The HTTP prober follows redirects itself, within limits."""

from __future__ import annotations

from collectors.http import HttpProber, ProbeSpec
from tests.collectors.servers import DEADLINE_SLACK, probe_timed

TIMEOUT = 1.0


def spec(url: str, *, max_redirects: int = 10) -> ProbeSpec:
    return ProbeSpec(endpoint_id="r", url=url, timeout=TIMEOUT, max_redirects=max_redirects)


async def test_it_follows_relative_redirects_to_the_destination(
    prober: HttpProber, app_url: str
) -> None:
    result = await prober.probe(spec(f"{app_url}/chain/3", max_redirects=3))

    assert result.ok, result.reason
    assert result.status == 200


async def test_it_reports_a_redirect_loop(prober: HttpProber, app_url: str) -> None:
    result, elapsed = await probe_timed(prober, spec(f"{app_url}/loop/a"))

    assert not result.ok
    assert result.reason == "redirect loop"
    assert result.status == 302
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_reports_a_redirect_to_a_non_http_scheme(prober: HttpProber, app_url: str) -> None:
    result, elapsed = await probe_timed(prober, spec(f"{app_url}/to-ftp"))

    assert not result.ok
    assert result.reason == "redirect to unsupported scheme 'ftp'"
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_reports_too_many_redirects(prober: HttpProber, app_url: str) -> None:
    result, elapsed = await probe_timed(prober, spec(f"{app_url}/chain/4", max_redirects=3))

    assert not result.ok
    assert result.reason == "too many redirects"
    assert elapsed < TIMEOUT + DEADLINE_SLACK


async def test_it_does_not_follow_a_redirect_it_expects(prober: HttpProber, app_url: str) -> None:
    expect_redirect = ProbeSpec(
        endpoint_id="r", url=f"{app_url}/to-ftp", timeout=TIMEOUT, expect_status=frozenset({302})
    )

    result = await prober.probe(expect_redirect)

    assert result.ok, result.reason
    assert result.status == 302
