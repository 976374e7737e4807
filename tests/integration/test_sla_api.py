"""``/api/v1/sla``, ``/incidents`` and ``/scorecard`` through the running service: shapes,
unknown as null, roles and agency scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp
import pytest
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.running import serving
from tests.sla.rows import alert, at, full_days, series_sample

VIEWER = "viewer-token-0123456789"
SCOPED = "nghe-an-token-0123456789"
CONFIG = f"""
auth:
  tokens:
    - {{name: wall, token: {VIEWER}, role: viewer}}
    - {{name: nghe-an, token: {SCOPED}, role: viewer, agency: nghe-an}}
agencies:
  - {{id: nghe-an, name: "Tỉnh Nghệ An", kind: province}}
  - {{id: ha-tinh, name: "Tỉnh Hà Tĩnh", kind: province}}
  - {{id: btc, name: "Bộ Tài chính", kind: ministry}}
endpoints:
  - {{id: na-portal, agency: nghe-an, url: "http://127.0.0.1:9/na", interval: 1h}}
  - {{id: ht-portal, agency: ha-tinh, url: "http://127.0.0.1:9/ht", interval: 1h}}
  - {{id: btc-portal, agency: btc, url: "http://127.0.0.1:9/btc", interval: 1h}}
series:
  - {{id: na-level4, agency: nghe-an, kind: gauge, unit: "%", target: 30,
     source: {{type: json, url: "http://127.0.0.1:9/s", path: "$.v"}}}}
"""
OCTOBER = {"start": "2026-10-01T00:00:00+07:00", "end": "2026-11-01T00:00:00+07:00"}


@dataclass
class Api:
    base: str
    http: aiohttp.ClientSession

    async def get(self, path: str, token: str | None = VIEWER, **params: str) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.get(self.base + path, params=params, headers=headers) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def api(db_url: str, pool: AsyncConnectionPool) -> AsyncIterator[Api]:
    config = parse_config_text(CONFIG, filename="center.yaml", env={})
    service = Service(Settings(database_url=SecretStr(db_url)), config)
    async with serving(service) as base, aiohttp.ClientSession() as http:
        # After start: the service has synced the catalogue from the config.
        await full_days(pool, "na-portal", date(2026, 10, 1), 31, downtime=864)
        await full_days(pool, "btc-portal", date(2026, 10, 1), 31)
        await alert(pool, "na-portal", "nghe-an", at("2026-10-03 10:00"), at("2026-10-03 10:30"),
                    acknowledged=at("2026-10-03 10:10"))  # fmt: skip
        await series_sample(pool, "na-level4", at("2026-10-30 08:00"), 15)
        yield Api(base, http)


ENDPOINT_KEYS = {
    "id", "availability_percent", "probes", "failed", "downtime_seconds", "known_seconds",
    "unknown_seconds", "maintenance_seconds", "active", "incidents",
}  # fmt: skip


async def test_sla_of_one_agency_has_the_contract_shape(api: Api) -> None:
    status, body = await api.get("/api/v1/sla", agency="nghe-an", **OCTOBER)
    assert status == 200, body
    assert body["agency"] == "nghe-an" and body["timezone"] == "Asia/Ho_Chi_Minh"
    assert body["availability_percent"] == pytest.approx(99.0)
    assert body["downtime_seconds"] == 31 * 864 and body["unknown_seconds"] == 0
    assert body["maintenance_seconds"] == 0 and body["probes"] == 31 * 1440
    assert body["failed"] == 31 * 14
    assert (body["incidents"], body["mtta_seconds"], body["mttr_seconds"]) == (1, 600, 1800)
    [endpoint] = body["endpoints"]
    assert set(endpoint) == ENDPOINT_KEYS
    assert endpoint["id"] == "na-portal"
    assert endpoint["availability_percent"] == pytest.approx(99.0)
    # Naive times are read in the center's time zone.
    _, naive = await api.get(
        "/api/v1/sla", agency="nghe-an", start="2026-10-01T00:00:00", end="2026-11-01T00:00:00"
    )
    assert naive["availability_percent"] == body["availability_percent"]


async def test_sla_of_all_agencies_shows_unknown_as_null(api: Api) -> None:
    status, body = await api.get("/api/v1/sla", **OCTOBER)
    assert status == 200
    by_id = {a["agency"]: a for a in body["agencies"]}
    assert set(by_id) == {"nghe-an", "ha-tinh", "btc"}
    assert by_id["ha-tinh"]["availability_percent"] is None
    assert by_id["ha-tinh"]["endpoints"][0]["availability_percent"] is None
    assert by_id["ha-tinh"]["unknown_seconds"] == 31 * 86400
    assert by_id["btc"]["availability_percent"] == 100.0


async def test_incidents_and_scorecard(api: Api) -> None:
    status, body = await api.get("/api/v1/incidents", endpoint="na-portal", **OCTOBER)
    assert status == 200
    assert body["source"] == "alert" and body["mtta_seconds"] == 600
    [incident] = body["incidents"]
    assert incident["duration_seconds"] == 1800
    assert incident["time_to_acknowledge_seconds"] == 600
    assert incident["acknowledged_by"] == "truc-ban"

    status, card = await api.get("/api/v1/scorecard", kind="province", **OCTOBER)
    assert status == 200
    assert card["weights"] == {"availability": 0.7, "kpi": 0.3}
    rows = [(r["rank"], r["agency"], r["availability_unknown"]) for r in card["agencies"]]
    assert rows == [(1, "nghe-an", False), (2, "ha-tinh", True)]
    na = card["agencies"][0]
    assert na["kpi_attainment_percent"] == 50.0
    assert na["score"] == pytest.approx(0.7 * 99 + 0.3 * 50)
    assert na["kpis"][0]["series"] == "na-level4"


@pytest.mark.parametrize("path", ["/api/v1/sla", "/api/v1/incidents", "/api/v1/scorecard"])
async def test_every_route_needs_a_valid_token(api: Api, path: str) -> None:
    assert (await api.get(path, token=None))[0] == 401
    assert (await api.get(path, token="not-a-token-0123456789"))[0] == 401
    assert (await api.get(path))[0] == 200


async def test_an_agency_token_sees_its_own_agency_only(api: Api) -> None:
    status, body = await api.get("/api/v1/sla", token=SCOPED, **OCTOBER)
    assert status == 200
    assert [a["agency"] for a in body["agencies"]] == ["nghe-an"]
    assert (await api.get("/api/v1/sla", token=SCOPED, agency="btc"))[0] == 404
    assert (await api.get("/api/v1/incidents", token=SCOPED, agency="btc"))[0] == 404
    status, card = await api.get("/api/v1/scorecard", token=SCOPED, **OCTOBER)
    assert [a["agency"] for a in card["agencies"]] == ["nghe-an"]


async def test_bad_periods_are_422_and_unknown_agencies_404(api: Api) -> None:
    backwards = {"start": OCTOBER["end"], "end": OCTOBER["start"]}
    assert (await api.get("/api/v1/sla", **backwards))[0] == 422
    too_long = {"start": "2024-01-01T00:00:00+07:00", "end": OCTOBER["end"]}
    assert (await api.get("/api/v1/sla", **too_long))[0] == 422
    far = {"start": "9999-12-30T00:00:00", "end": "9999-12-31T23:59:59"}
    assert (await api.get("/api/v1/sla", **far))[0] == 422
    assert (await api.get("/api/v1/sla", agency="nowhere"))[0] == 404
    assert (await api.get("/api/v1/incidents", endpoint="nowhere"))[0] == 404
