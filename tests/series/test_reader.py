"""SeriesReader against real loopback servers: every failure is an error, never a 0."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from collectors.series import (
    ERROR_REASONS,
    JsonQuery,
    PrometheusQuery,
    SeriesReader,
    SeriesReading,
    SeriesSpec,
)
from core.clock import SystemClock
from tests.running import free_port
from tests.series.sources import Sources, serve_sources
from tests.series.test_values import EXPOSITION


@pytest.fixture
async def sources() -> AsyncIterator[Sources]:
    async with serve_sources() as s:
        yield s


@pytest.fixture
async def reader() -> AsyncIterator[SeriesReader]:
    async with SeriesReader(clock=SystemClock()) as r:
        yield r


def _json(url: str, path: str = "$.value", timeout: float = 2.0, cap: int = 1 << 20) -> SeriesSpec:
    return SeriesSpec("kpi", JsonQuery(url, path), timeout, cap)


def _failed(reading: SeriesReading, reason: str) -> str:
    assert reading.value is None, f"expected an error, got the value {reading.value}"
    assert reading.error is not None and reading.error.reason == reason, reading.error
    assert reason in ERROR_REASONS
    return reading.error.message


async def test_a_json_value_is_read(sources: Sources, reader: SeriesReader) -> None:
    url = sources.json("/kpi", {"value": 15.9, "unit": "%"})
    reading = await reader.read(_json(url))
    assert reading.series_id == "kpi" and reading.value == 15.9 and reading.error is None
    assert reading.time.tzinfo is not None


async def test_a_source_returning_html_instead_of_json(
    sources: Sources, reader: SeriesReader
) -> None:
    url = sources.text("/kpi", "<html><body>Đăng nhập</body></html>", "text/html; charset=utf-8")
    message = _failed(await reader.read(_json(url)), "not_json")
    assert message == "expected JSON, got text/html"


async def test_a_missing_json_path_is_an_error_not_zero(
    sources: Sources, reader: SeriesReader
) -> None:
    url = sources.json("/kpi", {"data": {"total": 12}})
    message = _failed(await reader.read(_json(url, "$.data.level4")), "path_missing")
    assert message == "json path $.data.level4 matched nothing"


async def test_nan_and_infinite_values_from_a_source(
    sources: Sources, reader: SeriesReader
) -> None:
    for name, literal in (("nan", b"NaN"), ("inf", b"Infinity"), ("text", b'"-inf"')):
        url = sources.raw(f"/{name}", b'{"value": ' + literal + b"}")
        _failed(await reader.read(_json(url)), "not_finite")
    url = sources.text("/metrics", 'kpi{p="a"} NaN\n', "text/plain; version=0.0.4")
    spec = SeriesSpec("kpi", PrometheusQuery.of(url, "kpi", {"p": "a"}), 2.0)
    _failed(await reader.read(spec), "not_finite")


async def test_a_non_numeric_value(sources: Sources, reader: SeriesReader) -> None:
    url = sources.json("/kpi", {"value": "đang cập nhật"})
    assert "is not a number" in _failed(await reader.read(_json(url)), "not_numeric")


async def test_http_errors_are_errors(sources: Sources, reader: SeriesReader) -> None:
    url = sources.json("/kpi", {"value": 1}, status=503)
    assert _failed(await reader.read(_json(url)), "http_status") == "status 503"
    missing = await reader.read(_json(sources.url + "/nowhere"))
    assert _failed(missing, "http_status") == "status 404"


async def test_a_slow_source_times_out_at_the_deadline(
    sources: Sources, reader: SeriesReader
) -> None:
    url = sources.json("/kpi", {"value": 1}, delay=1.5)
    started = time.monotonic()
    reading = await reader.read(_json(url, timeout=0.3))
    assert _failed(reading, "timeout") == "timeout"
    assert time.monotonic() - started < 1.0


async def test_a_body_past_the_cap_is_refused(sources: Sources, reader: SeriesReader) -> None:
    url = sources.json("/kpi", {"value": 1, "padding": "x" * 10_000})
    message = _failed(await reader.read(_json(url, cap=1000)), "body_too_large")
    assert message == "body too large (> 1000 bytes)"


async def test_a_refused_connection(reader: SeriesReader) -> None:
    url = f"http://127.0.0.1:{free_port()}/kpi"
    assert _failed(await reader.read(_json(url)), "connection") == "connection refused"


async def test_prometheus_text_with_labels_over_http(
    sources: Sources, reader: SeriesReader
) -> None:
    url = sources.text("/metrics", EXPOSITION, "text/plain; version=0.0.4; charset=utf-8")
    one = PrometheusQuery.of(url, "level4_share_percent", {"province": "ha-noi"})
    assert (await reader.read(SeriesSpec("hn", one, 2.0))).value == 31.5
    summed = PrometheusQuery.of(url, "ngsp_transactions_total", {"code": "200"})
    assert (await reader.read(SeriesSpec("tx", summed, 2.0))).value == 2300
    html = sources.text("/html", "<html></html>", "text/html")
    spec = SeriesSpec("tx", PrometheusQuery.of(html, "up", {}), 2.0)
    assert _failed(await reader.read(spec), "not_exposition").endswith("got text/html")


async def test_a_closed_reader_reports_instead_of_raising(sources: Sources) -> None:
    reader = SeriesReader(clock=SystemClock())
    await reader.close()
    url = sources.json("/kpi", {"value": 1})
    assert _failed(await reader.read(_json(url)), "connection") == "reader closed"
