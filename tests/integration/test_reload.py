"""Reloading the config: new endpoints start, removed ones stop, a bad file changes nothing."""

from __future__ import annotations

import asyncio
import functools
import socket
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
from tests.waiting import wait_until

VIEWER, OPERATOR, ADMIN = (
    "viewer-token-0123456789",
    "operator-token-0123456789",
    "admin-token-0123456789ab",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


async def test_a_reload_applies_a_good_config_and_refuses_a_bad_one(
    db_url: str, tmp_path: Path
) -> None:
    agencies = [a for a in load_agencies() if a.kind == "platform" or a.id == "btc"]
    path = tmp_path / "fleet.yaml"
    async with (
        FleetSimulator(agencies, latency_scale=0.0) as fleet,
        aiohttp.ClientSession() as http,
    ):
        _write(path, fleet, agencies, drop={"btc-portal"})
        loader = functools.partial(load_config, path, {})
        service = Service(Settings(database_url=SecretStr(db_url)), loader(), config_loader=loader)
        await service.start()
        port = _free_port()
        server = asyncio.create_task(service.serve("127.0.0.1", port))
        base = f"http://127.0.0.1:{port}/api/v1"

        async def call(method: str, route: str, token: str) -> tuple[int, Any]:
            headers = {"Authorization": f"Bearer {token}"}
            async with http.request(method, base + route, headers=headers) as resp:
                return resp.status, await resp.json()

        async def states() -> dict[str, str] | None:
            try:
                status, body = await call("GET", "/endpoints", VIEWER)
            except aiohttp.ClientError:
                return None
            return {e["id"]: e["state"] for e in body} if status == 200 else None

        try:
            first = await wait_until(states, timeout=10, what="the API")
            assert "btc-portal" not in first and "ecabinet-portal" in first

            _write(path, fleet, agencies, drop={"ecabinet-portal"})
            assert (await call("POST", "/config/reload", OPERATOR))[0] == 403
            status, body = await call("POST", "/config/reload", ADMIN)
            assert status == 200 and body["reloaded"] is True

            async def btc_up() -> bool:
                now = await states() or {}
                return now.get("btc-portal") == "up" and "ecabinet-portal" not in now

            await wait_until(btc_up, timeout=5, what="btc-portal probed, ecabinet gone")

            path.write_text("endpoints:\n  - {id: x, agency: nowhere, url: 'gopher://x'}\n")
            status, body = await call("POST", "/config/reload", ADMIN)
            assert status == 422 and body["reloaded"] is False
            assert any("fleet.yaml:2" in e and "nowhere" in e for e in body["errors"])
            after = await states() or {}
            assert "btc-portal" in after and "x" not in after
        finally:
            service.stop_serving()
            await server
            await service.stop()
    with psycopg.connect(db_url) as conn:
        rows: dict[str, bool] = dict(conn.execute("SELECT id, active FROM endpoints").fetchall())
    assert rows["btc-portal"] is True and rows["ecabinet-portal"] is False
