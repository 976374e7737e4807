"""The database goes away and comes back: nothing produced meanwhile is lost or doubled,
the memory bound is kept (the spool takes the rest), and the center goes on probing and
publishing as if nothing happened."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import aiohttp
from websockets.asyncio.client import connect

from tests.outage.center import ENDPOINTS, VIEWER, Outage, running_center
from tests.waiting import wait_until


async def _endpoint_states(center: Outage) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {VIEWER}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(center.base + "/api/v1/endpoints", headers=headers) as resp,
    ):
        assert resp.status == 200
        return {e["id"]: e["state"] for e in await resp.json()}


async def _all_up(center: Outage) -> bool:
    return set((await _endpoint_states(center)).values()) == {"up"}


async def _spooled(center: Outage, kind: str, at_least: int) -> bool:
    return center.metric("monitor_center_spooled_items_total", kind=kind) >= at_least


async def test_every_result_and_sample_made_during_an_outage_is_stored_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    async with running_center(db_url, tmp_path) as center:
        await wait_until(lambda: _all_up(center), timeout=10, what="all endpoints up")
        await center.proxy.cut()
        # Ten in memory at most: past that the spool takes them, for both kinds.
        await wait_until(lambda: _spooled(center, "results", 40), timeout=20, what="spooled")
        await wait_until(lambda: _spooled(center, "series", 20), timeout=20, what="spooled")
        assert await _endpoint_states(center) == dict.fromkeys(ENDPOINTS, "up")
        assert center.service.writer.pending - center.service.writer.spooled <= 10
        await center.proxy.restore()

        async def all_stored() -> bool:
            produced = len(center.prober.results)
            return center.count("SELECT count(*) FROM probe_results") >= produced

        await wait_until(all_stored, timeout=30, what="every result produced so far stored")
        replayed = center.metric("monitor_center_spool_replayed_items_total", kind="results")
        assert replayed >= 40
    # Stopped (and flushed) now: compare everything the prober ever produced.
    stored = center.stored_keys()
    assert len(stored) == len(center.prober.results)
    assert Counter(stored) == Counter(center.prober.keys())
    samples = center.count("SELECT count(*) FROM series_samples")
    assert samples == center.metric("monitor_center_series_reads_total") > 0
    assert center.metric("monitor_center_series_samples_written_total") == samples
    assert center.metric("monitor_center_results_dropped_total") == 0
    assert center.metric("monitor_center_series_readings_dropped_total") == 0
    assert not list(tmp_path.rglob("*.jsonl")), "every replayed segment is deleted"


async def test_endpoints_keep_their_state_and_the_live_feed_its_events_during_an_outage(
    db_url: str, tmp_path: Path
) -> None:
    async with running_center(db_url, tmp_path) as center:
        await wait_until(lambda: _all_up(center), timeout=10, what="all endpoints up")
        ws_url = center.base.replace("http://", "ws://", 1) + f"/ws/live?token={VIEWER}"
        async with connect(ws_url, proxy=None, open_timeout=5, close_timeout=1) as ws:
            snapshot = json.loads(await ws.recv())
            assert snapshot["type"] == "snapshot"
            await center.proxy.cut()
            await wait_until(
                lambda: _spooled(center, "results", 20), timeout=20, what="writes failing"
            )
            center.backend.failing.add("hue-portal")

            # Probed every 200 ms and down at the first failure: held back by nothing.
            async with asyncio.timeout(3):
                while True:
                    down = json.loads(await ws.recv())
                    if down.get("type") == "endpoint" and down["id"] == "hue-portal":
                        break
            assert down["state"] == "down"
            assert down["reason"] == "status 503"
            states = await _endpoint_states(center)
            assert states == {**dict.fromkeys(ENDPOINTS, "up"), "hue-portal": "down"}
            await center.proxy.restore()
