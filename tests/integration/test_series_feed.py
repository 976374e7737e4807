"""Series on the live feed: listed in the snapshot, a ``series`` message per new value."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect

from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.integration.test_series_api import (
    EXPOSITION,
    HANOI_FEED,
    OPERATOR,
    PUSHED,
    VIEWER,
    config_text,
)
from tests.running import serving
from tests.series.sources import Sources, serve_sources

Message = dict[str, Any]


@pytest.fixture
async def live(db_url: str) -> AsyncIterator[tuple[str, Sources]]:
    async with serve_sources() as sources:
        sources.text("/metrics", EXPOSITION.format(a=1000), "text/plain; version=0.0.4")
        sources.json("/kpi", {"level4": 15.9})
        config = parse_config_text(config_text(sources.url), filename="series.yaml", env={})
        service = Service(Settings(database_url=SecretStr(db_url)), config)
        async with serving(service) as base:
            yield base.replace("http://", "ws://", 1), sources


async def _until(
    ws: ClientConnection, wanted: Callable[[Message], bool], timeout: float = 8
) -> Message:
    deadline = time.monotonic() + timeout
    while True:
        remaining = max(deadline - time.monotonic(), 0.01)
        message: Message = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        if wanted(message):
            return message


def _series(series_id: str, value: float | None = None) -> Callable[[Message], bool]:
    return lambda m: (
        m["type"] == "series" and m["id"] == series_id and (value is None or m["value"] == value)
    )


async def test_a_new_value_is_a_series_message_with_the_counter_rate(
    live: tuple[str, Sources],
) -> None:
    ws_base, sources = live
    async with connect(f"{ws_base}/ws/live?token={VIEWER}", proxy=None, open_timeout=5) as ws:
        snapshot: Message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert snapshot["type"] == "snapshot"
        listed = {s["id"]: s for s in snapshot["series"]}
        assert set(listed) == {"ngsp-transactions", "ha-noi-level4", PUSHED}
        assert listed["ha-noi-level4"]["target"] == 30.0
        first = await _until(ws, _series("ngsp-transactions", 1000))
        sources.text("/metrics", EXPOSITION.format(a=1060), "text/plain")
        moved = await _until(ws, _series("ngsp-transactions", 1060))
        assert moved["seq"] > first["seq"]
        assert (moved["agency"], moved["unit"], moved["target"]) == ("ngsp", "transactions", None)
        assert moved["rate_per_minute"] > 0
        assert datetime.fromisoformat(moved["time"]) > datetime.fromisoformat(first["time"])
        gauge = await _until(ws, _series("ha-noi-level4", 15.9))
        assert "rate_per_minute" not in gauge and gauge["target"] == 30.0


async def test_a_push_is_on_the_feed_and_a_scoped_client_sees_its_agency_only(
    live: tuple[str, Sources],
) -> None:
    ws_base, _ = live
    http_base = ws_base.replace("ws://", "http://", 1)
    url = f"{ws_base}/ws/live?token={HANOI_FEED}"
    async with connect(url, proxy=None, open_timeout=5) as ws, aiohttp.ClientSession() as http:
        snapshot: Message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert [s["id"] for s in snapshot["series"]] == ["ha-noi-level4"]
        # Ahead of the gauge's own readings (every second), so it becomes the latest.
        ahead = datetime.now(UTC) + timedelta(minutes=2)
        body = {"samples": [{"time": ahead.isoformat(), "value": 42.5}]}
        headers = {"Authorization": f"Bearer {OPERATOR}"}
        for series_id in (PUSHED, "ha-noi-level4"):
            async with http.post(
                f"{http_base}/api/v1/series/{series_id}/samples", json=body, headers=headers
            ) as resp:
                assert resp.status == 200
        message = await _until(ws, lambda m: m["type"] == "series" and m["value"] == 42.5)
        assert message["id"] == "ha-noi-level4"  # the ngsp push never reached this client
