"""Series through the running center: loopback sources collected into the database and
the /series API, pushes with their refusals, buckets across a counter reset."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.running import serving
from tests.series.sources import Sources, serve_sources
from tests.waiting import wait_until

VIEWER = "series-viewer-token-0123456789"
OPERATOR = "series-operator-token-012345678"
NGSP_FEED = "ngsp-scoped-viewer-token-01234"
HANOI_FEED = "ha-noi-scoped-operator-token-0"
PUSH_LIMIT = 50
PUSHED = "ngsp-pushed"
EXPOSITION = 'ngsp_transactions_total{{node="a"}} {a}\nngsp_transactions_total{{node="b"}} 5\n'


def config_text(src: str) -> str:
    return f"""
auth:
  tokens:
    - {{name: wall, token: {VIEWER}, role: viewer}}
    - {{name: noc, token: {OPERATOR}, role: operator}}
    - {{name: ngsp-feed, token: {NGSP_FEED}, role: viewer, agency: ngsp}}
    - {{name: ha-noi-feed, token: {HANOI_FEED}, role: operator, agency: ha-noi}}
agencies:
  - {{id: ngsp, name: NGSP, kind: platform}}
  - {{id: ha-noi, name: "Hà Nội", kind: province, depends_on: [ngsp]}}
series:
  - {{id: ngsp-transactions, agency: ngsp, kind: counter, unit: transactions, interval: 1s,
     source: {{type: prometheus, url: "{src}/metrics", metric: ngsp_transactions_total,
              labels: {{node: a}}}}}}
  - {{id: ha-noi-level4, agency: ha-noi, kind: gauge, unit: "%", interval: 1s, target: 30,
     source: {{type: json, url: "{src}/kpi", path: "$.level4"}}}}
  - {{id: {PUSHED}, agency: ngsp, kind: counter, unit: transactions, interval: 1h}}
"""


@dataclass
class Center:
    service: Service
    sources: Sources
    base: str
    http: aiohttp.ClientSession

    async def call(
        self, method: str, path: str, token: str | None = VIEWER, body: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        async with self.http.request(method, self.base + path, headers=headers, data=body) as r:
            if r.content_type == "application/json":
                return r.status, await r.json()
            return r.status, await r.text()

    async def push(
        self, samples: list[tuple[datetime, float]], token: str = OPERATOR, series: str = PUSHED
    ) -> tuple[int, Any]:
        # json.dumps writes NaN and Infinity as bare literals, as a careless client would.
        body = json.dumps({"samples": [{"time": t.isoformat(), "value": v} for t, v in samples]})
        return await self.call("POST", f"/api/v1/series/{series}/samples", token, body)

    async def series(self, token: str = VIEWER, query: str = "") -> dict[str, Any]:
        status, body = await self.call("GET", "/api/v1/series" + query, token)
        assert status == 200, body
        return {s["id"]: s for s in body}


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    async with serve_sources() as sources:
        sources.text("/metrics", EXPOSITION.format(a=1000), "text/plain; version=0.0.4")
        sources.json("/kpi", {"level4": 15.9})
        config = parse_config_text(config_text(sources.url), filename="series.yaml", env={})
        # The samples are from 2024: out of reach of the raw retention pass the rollup loop
        # runs at start (it would drop them, rolled up, while a test reads them raw).
        settings = Settings(
            database_url=SecretStr(db_url),
            series_push_max_samples=PUSH_LIMIT,
            raw_retention_days=100_000,
        )
        service = Service(settings, config)
        async with serving(service) as base, aiohttp.ClientSession() as http:
            yield Center(service, sources, base, http)


def _hanoi(hour: int, minute: int = 0) -> datetime:
    """1 May 2024 at hour:minute in Hanoi (UTC+7), as a UTC datetime."""
    return datetime(2024, 5, 1, hour, minute, tzinfo=UTC) - timedelta(hours=7)


async def test_loopback_sources_are_collected_into_the_database_and_the_api(
    center: Center,
) -> None:
    async def both_read() -> dict[str, Any] | None:
        found = await center.series()
        ok = all(found[i]["latest"] for i in ("ngsp-transactions", "ha-noi-level4"))
        return found if ok else None

    found = await wait_until(both_read, timeout=5, what="both series read")
    level4 = found["ha-noi-level4"]
    assert level4["latest"]["value"] == 15.9 and level4["kind"] == "gauge"
    assert (level4["agency"], level4["unit"], level4["target"]) == ("ha-noi", "%", 30.0)
    assert level4["target_direction"] == "min" and level4["source"] == "json"
    assert level4["rate_per_minute"] is None and level4["last_error"] is None
    assert found["ngsp-transactions"]["latest"]["value"] == 1000  # node a only
    center.sources.text("/metrics", EXPOSITION.format(a=1090), "text/plain")

    async def rated() -> float | None:
        rate: float | None = (await center.series())["ngsp-transactions"]["rate_per_minute"]
        return rate

    assert await wait_until(rated, timeout=5, what="a counter rate") > 0
    await center.service.series.writer.drained()
    assert await center.service.series.repo.count("ha-noi-level4") >= 1


async def test_a_failing_source_shows_its_last_error_and_counts_it(center: Center) -> None:
    await wait_until(
        lambda: _latest(center, "ha-noi-level4"), timeout=5, what="a first level-4 value"
    )
    center.sources.json("/kpi", {"renamed": 15.9})

    async def errored() -> dict[str, Any] | None:
        error: dict[str, Any] | None = (await center.series())["ha-noi-level4"]["last_error"]
        return error

    error = await wait_until(errored, timeout=5, what="the missing path to show")
    assert error["reason"] == "path_missing"
    assert error["message"] == "json path $.level4 matched nothing"
    assert (await center.series())["ha-noi-level4"]["latest"]["value"] == 15.9  # never a 0
    _, metrics = await center.call("GET", "/metrics", None)
    assert 'monitor_center_series_errors_total{reason="path_missing"}' in metrics


async def _latest(center: Center, series_id: str) -> Any:
    return (await center.series())[series_id]["latest"]


async def test_a_push_stores_its_samples_and_says_how_many_were_new(center: Center) -> None:
    now = datetime.now(UTC)
    status, body = await center.push([(now - timedelta(minutes=m), 100.0 - m) for m in range(3)])
    assert status == 200, body
    assert body == {"series": PUSHED, "received": 3, "inserted": 3, "duplicates": 0}
    pushed = (await center.series())[PUSHED]
    assert pushed["latest"]["value"] == 100.0
    assert (pushed["source"], pushed["last_error"]) == ("push", None)  # never polled


async def test_duplicate_and_out_of_order_pushes_are_idempotent(center: Center) -> None:
    t = [_hanoi(8, m) for m in range(4)]
    status, body = await center.push([(t[2], 20.0), (t[0], 0.0)])  # out of order
    assert (status, body["inserted"]) == (200, 2)
    status, body = await center.push([(t[0], 999.0), (t[1], 10.0), (t[2], 999.0), (t[1], 7.0)])
    assert (status, body["inserted"], body["duplicates"]) == (200, 1, 3)
    status, body = await center.push([(t[2], 20.0), (t[0], 0.0)])  # a retried request
    assert (status, body["inserted"]) == (200, 0)
    stored = await center.service.series.repo.since([PUSHED], t[0] - timedelta(seconds=1))
    assert [(s.time, s.value) for s in stored[PUSHED]] == [(t[0], 0.0), (t[1], 10.0), (t[2], 20.0)]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
async def test_nan_and_infinite_pushed_values_are_refused_naming_the_index(
    center: Center, bad: float
) -> None:
    now = datetime.now(UTC)
    status, body = await center.push([(now, 1.0), (now - timedelta(seconds=1), bad)])
    assert status == 422
    (problem,) = body["detail"]
    assert problem["loc"] == ["body", "samples", 1, "value"]
    assert problem["msg"].startswith("samples[1].value must be a finite number")
    assert await center.service.series.repo.count(PUSHED) == 0  # the batch is refused whole


async def test_a_timestamp_too_far_in_the_future_is_refused_naming_the_index(
    center: Center,
) -> None:
    now = datetime.now(UTC)
    ok = now + timedelta(minutes=4)
    status, body = await center.push([(now, 1.0), (ok, 2.0), (now + timedelta(minutes=6), 3.0)])
    assert status == 422
    assert [p["loc"] for p in body["detail"]] == [["body", "samples", 2, "time"]]
    assert "more than 5 minutes in the future" in body["detail"][0]["msg"]
    status, body = await center.push([(now, 1.0), (ok, 2.0)])
    assert (status, body["inserted"]) == (200, 2)


async def test_a_timestamp_without_offset_is_refused(center: Center) -> None:
    body = json.dumps({"samples": [{"time": "2024-05-01T08:00:00", "value": 1}]})
    status, answer = await center.call("POST", f"/api/v1/series/{PUSHED}/samples", OPERATOR, body)
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "samples", 0, "time"]


async def test_an_oversized_push_batch_gets_413_with_the_limit(center: Center) -> None:
    now = datetime.now(UTC)
    samples = [(now - timedelta(seconds=i), float(i)) for i in range(PUSH_LIMIT + 1)]
    status, body = await center.push(samples)
    assert status == 413
    assert body["detail"] == f"{PUSH_LIMIT + 1} samples in one batch; the limit is {PUSH_LIMIT}"
    status, body = await center.push(samples[:PUSH_LIMIT])
    assert (status, body["inserted"]) == (200, PUSH_LIMIT)


async def test_a_push_with_a_token_of_another_agency_gets_403(center: Center) -> None:
    now = datetime.now(UTC)
    status, body = await center.push([(now, 1.0)], token=HANOI_FEED)  # operator, ha-noi
    assert status == 403
    assert body["detail"] == (
        "token 'ha-noi-feed' is scoped to agency 'ha-noi'; series 'ngsp-pushed' belongs to 'ngsp'"
    )
    assert await center.service.series.repo.count(PUSHED) == 0


async def test_who_may_push(center: Center) -> None:
    now = datetime.now(UTC)
    sample = [(now, 1.0)]
    assert (await center.push(sample, token=""))[0] == 401
    assert (await center.push(sample, token="not-a-configured-token"))[0] == 401
    assert (await center.push(sample, token=VIEWER))[0] == 403  # unscoped viewer
    assert (await center.push(sample, token=NGSP_FEED))[0] == 200  # scoped to ngsp: its own
    assert (await center.push(sample, token=HANOI_FEED, series="ha-noi-level4"))[0] == 200
    assert (await center.push(sample, token=OPERATOR, series="no-such-series"))[0] == 404


async def test_a_counter_reset_in_points_and_in_the_rate(center: Center) -> None:
    # 100 -> 160 -> (restart) 10 -> 70, one minute apart: increases 60, 10, 60.
    t = [_hanoi(8, m) for m in range(4)]
    await center.push(list(zip(t, [100.0, 160.0, 10.0, 70.0], strict=True)))
    query = "start=2024-05-01T08:00:00%2B07:00&end=2024-05-01T09:00:00%2B07:00"
    status, body = await center.call("GET", f"/api/v1/series/{PUSHED}/points?{query}&step=2m")
    assert status == 200, body
    assert (body["kind"], body["step_seconds"]) == ("counter", 120.0)
    points = [(p["time"], p["increase"], p["last"], p["samples"]) for p in body["points"]]
    assert points == [
        ("2024-05-01T01:00:00Z", 60.0, 160.0, 2),
        ("2024-05-01T01:02:00Z", 70.0, 70.0, 2),
    ]
    assert body["points"][0]["avg"] is None
    status, body = await center.call("GET", f"/api/v1/series/{PUSHED}/points?{query}&step=1h")
    assert [p["increase"] for p in body["points"]] == [130.0]
    now = datetime.now(UTC).replace(microsecond=0)
    recent = [now - timedelta(minutes=3 - i) for i in range(4)]
    await center.push(list(zip(recent, [100.0, 160.0, 10.0, 70.0], strict=True)))
    assert (await center.series())[PUSHED]["rate_per_minute"] == pytest.approx(130.0 / 3)


async def test_gauge_points_are_avg_min_max_last(center: Center) -> None:
    t = [_hanoi(8, m) for m in (0, 1, 2, 5)]
    await center.push(
        list(zip(t, [14.0, 16.0, 18.0, 30.0], strict=True)),
        token=HANOI_FEED,
        series="ha-noi-level4",
    )
    query = "start=2024-05-01T08:00:00%2B07:00&end=2024-05-01T08:10:00%2B07:00&step=5m"
    status, body = await center.call("GET", f"/api/v1/series/ha-noi-level4/points?{query}")
    assert status == 200, body
    first, second = body["points"]
    assert (first["avg"], first["min"], first["max"], first["last"]) == (16.0, 14.0, 18.0, 18.0)
    assert (second["samples"], second["last"], second["increase"]) == (1, 30.0, None)


async def test_points_refuse_too_many_buckets_and_bad_ranges(center: Center) -> None:
    path = f"/api/v1/series/{PUSHED}/points"
    year = "start=2023-01-01T00:00:00Z&end=2024-01-01T00:00:00Z"
    status, body = await center.call("GET", f"{path}?{year}&step=1s")
    assert status == 422
    assert body["detail"] == (
        "step 1s gives 31536000 points, more than 10000; ask for a step of at least 3154s"
    )
    status, body = await center.call("GET", f"{path}?{year}&step=1d")
    assert status == 200 and body["step_seconds"] == 86400
    reversed_range = "start=2024-01-01T00:00:00Z&end=2023-01-01T00:00:00Z"
    assert (await center.call("GET", f"{path}?{reversed_range}"))[0] == 422
    assert (await center.call("GET", f"{path}?{year}&step=soon"))[0] == 422
    assert (await center.call("GET", f"{path}?start=2024-01-01T00:00:00"))[0] == 422
    status, body = await center.call("GET", path)  # the last day, an automatic step
    assert status == 200 and body["points"] == [] and body["step_seconds"] == 3600


async def test_reads_need_a_token_and_a_scope_sees_its_own_agency(center: Center) -> None:
    assert (await center.call("GET", "/api/v1/series", None))[0] == 401
    assert (await center.call("GET", f"/api/v1/series/{PUSHED}/points", None))[0] == 401
    assert set(await center.series(token=HANOI_FEED)) == {"ha-noi-level4"}
    assert set(await center.series(query="?agency=ngsp")) == {"ngsp-transactions", PUSHED}
    assert (await center.call("GET", f"/api/v1/series/{PUSHED}/points", HANOI_FEED))[0] == 404
    assert (await center.call("GET", "/api/v1/series/nope/points"))[0] == 404
