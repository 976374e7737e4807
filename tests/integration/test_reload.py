"""Reloading the config: new endpoints start, removed ones stop, a bad file changes nothing."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from pydantic import SecretStr

from monitor_center.config import load_config
from monitor_center.demo.agencies import load_agencies
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.fleet_config import fleet_config_yaml
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.running import serving
from tests.waiting import wait_until

VIEWER, OPERATOR, ADMIN = (
    "viewer-token-0123456789",
    "operator-token-0123456789",
    "admin-token-0123456789ab",
)


def _write(path: Path, fleet: FleetSimulator, agencies: list[Any], drop: set[str]) -> None:
    endpoints = [e for e in fleet.endpoints() if e.id not in drop]
    path.write_text(
        fleet_config_yaml(
            endpoints,
            agencies,
            interval="1s",
            timeout="1s",
            viewer_token=VIEWER,
            operator_token=OPERATOR,
            admin_token=ADMIN,
        ),
        encoding="utf-8",
    )


async def _call(
    http: aiohttp.ClientSession, url: str, token: str, method: str = "GET"
) -> tuple[int, Any]:
    async with http.request(method, url, headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status, await resp.json()


async def test_a_reload_applies_a_good_config_and_refuses_a_bad_one(
    db_url: str, tmp_path: Path
) -> None:
    agencies = [a for a in load_agencies() if a.kind == "platform" or a.id == "btc"]
    path = tmp_path / "fleet.yaml"
    async with FleetSimulator(agencies, latency_scale=0.0) as fleet:
        _write(path, fleet, agencies, drop={"btc-portal"})
        loader = functools.partial(load_config, path, {})
        service = Service(Settings(database_url=SecretStr(db_url)), loader(), config_loader=loader)
        async with serving(service) as base, aiohttp.ClientSession() as http:
            endpoints, reload = f"{base}/api/v1/endpoints", f"{base}/api/v1/config/reload"

            async def states() -> dict[str, str] | None:
                try:
                    status, body = await _call(http, endpoints, VIEWER)
                except aiohttp.ClientError:
                    return None
                return {e["id"]: e["state"] for e in body} if status == 200 else None

            first = await wait_until(states, timeout=10, what="the API")
            assert "btc-portal" not in first and "ecabinet-portal" in first

            _write(path, fleet, agencies, drop={"ecabinet-portal"})
            assert (await _call(http, reload, OPERATOR, "POST"))[0] == 403
            status, body = await _call(http, reload, ADMIN, "POST")
            assert status == 200 and body["reloaded"] is True

            async def btc_up() -> bool:
                now = await states() or {}
                return now.get("btc-portal") == "up" and "ecabinet-portal" not in now

            await wait_until(btc_up, timeout=5, what="btc-portal probed, ecabinet gone")

            path.write_text("endpoints:\n  - {id: x, agency: nowhere, url: 'gopher://x'}\n")
            status, body = await _call(http, reload, ADMIN, "POST")
            assert status == 422 and body["reloaded"] is False
            assert any("fleet.yaml:2" in e and "nowhere" in e for e in body["errors"])
            after = await states() or {}
            assert "btc-portal" in after and "x" not in after
    with psycopg.connect(db_url) as conn:
        rows: dict[str, bool] = dict(conn.execute("SELECT id, active FROM endpoints").fetchall())
    assert rows["btc-portal"] is True and rows["ecabinet-portal"] is False


async def test_a_center_started_without_a_config_file_refuses_to_reload(
    db_url: str, tmp_path: Path
) -> None:
    agencies = [a for a in load_agencies() if a.id == "ngsp"]
    path = tmp_path / "fleet.yaml"
    async with FleetSimulator(agencies, latency_scale=0.0) as fleet:
        _write(path, fleet, agencies, drop=set())
        service = Service(Settings(database_url=SecretStr(db_url)), load_config(path, {}))
        async with serving(service) as base, aiohttp.ClientSession() as http:
            status, body = await _call(http, f"{base}/api/v1/config/reload", ADMIN, "POST")
    assert status == 409 and "no config file" in body["detail"]
