"""The simulated fleet, over real HTTP on loopback: endpoints, faults, control API, latency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from monitor_center.demo.agencies import load_agencies
from monitor_center.demo.faults import Fault, UnknownEndpointError
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.latency import BASE_LATENCY_MS, EndpointLatency

KIND_OF = {agency.id: agency.kind for agency in load_agencies()}


@pytest.fixture
async def sim() -> AsyncIterator[FleetSimulator]:
    async with FleetSimulator(load_agencies(), latency_scale=0) as fleet:
        yield fleet


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # A fresh connection per request, like the probes: no keep-alive retry hides a drop.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        yield session


async def fetch(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


async def set_fault(
    http: aiohttp.ClientSession, sim: FleetSimulator, body: object
) -> tuple[int, Any]:
    async with http.post(f"{sim.base_url}/_control/faults", json=body) as response:
        return response.status, await response.json()


def url_of(sim: FleetSimulator, endpoint_id: str) -> str:
    return next(ep.url for ep in sim.endpoints() if ep.id == endpoint_id)


async def test_fleet_serves_a_portal_per_agency_and_an_api_per_platform(
    sim: FleetSimulator,
) -> None:
    ids = {ep.id for ep in sim.endpoints()}
    platforms = [aid for aid, kind in KIND_OF.items() if kind == "platform"]
    assert ids == {f"{aid}-portal" for aid in KIND_OF} | {f"{aid}-api" for aid in platforms}
    assert len(ids) == 56 + 5
    assert url_of(sim, "nghe-an-portal") == f"{sim.base_url}/a/nghe-an/"
    assert url_of(sim, "ngsp-api") == f"{sim.base_url}/a/ngsp/api/health"


async def test_every_endpoint_answers_200_with_its_marker(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    endpoints = sim.endpoints()
    answers = await asyncio.gather(*(fetch(http, ep.url) for ep in endpoints))
    for endpoint, (status, text) in zip(endpoints, answers, strict=True):
        assert status == 200, endpoint.id
        if endpoint.kind == "portal":
            assert endpoint.body_contains is not None
            assert endpoint.body_contains in text, endpoint.id
        else:
            assert (endpoint.json_path, endpoint.equals) == ("$.status", "ok")
            assert '"status": "ok"' in text, endpoint.id


async def test_portal_is_utf8_html_with_the_vietnamese_name(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(url_of(sim, "nghe-an-portal")) as response:
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        raw = await response.read()
    assert "Nghệ An".encode() in raw


async def test_unknown_agency_path_is_not_found(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    status, _ = await fetch(http, f"{sim.base_url}/a/atlantis/")
    assert status == 404


async def test_down_fault_answers_503_with_a_short_body(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    assert (await set_fault(http, sim, {"endpoint": "ha-noi-portal", "mode": "down"}))[0] == 200
    status, text = await fetch(http, url_of(sim, "ha-noi-portal"))
    assert status == 503
    assert len(text) < 100
    assert "Hà Nội" not in text


async def test_down_fault_answers_the_requested_status(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    body = {"endpoint": "ngsp-api", "mode": "down", "status": 502}
    assert await set_fault(http, sim, body) == (200, {"endpoint": "ngsp-api", **body})
    assert (await fetch(http, url_of(sim, "ngsp-api")))[0] == 502


async def test_hang_fault_never_answers_so_the_client_times_out(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    sim.set_fault("dvcqg-portal", Fault("hang"))
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await http.get(url_of(sim, "dvcqg-portal"), timeout=aiohttp.ClientTimeout(total=0.5))
    assert time.monotonic() - started >= 0.5


async def test_hung_request_is_released_when_the_client_gives_up(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    sim.set_fault("vdxp-portal", Fault("hang"))
    timeout = aiohttp.ClientTimeout(total=0.2)
    request = asyncio.create_task(http.get(url_of(sim, "vdxp-portal"), timeout=timeout))
    async with asyncio.timeout(2):
        await sim.wait_stalled(1)
    with pytest.raises(asyncio.TimeoutError):
        await request
    async with asyncio.timeout(2):
        await sim.wait_stalled(0)


async def test_slow_fault_delays_the_answer_by_at_least_the_delay(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    body = {"endpoint": "btc-portal", "mode": "slow", "delay": 0.3}
    assert await set_fault(http, sim, body) == (200, body)
    started = time.monotonic()
    status, text = await fetch(http, url_of(sim, "btc-portal"))
    assert time.monotonic() - started >= 0.3
    assert status == 200
    assert "Bộ Tài chính" in text


async def test_wrong_content_portals_answer_200_without_their_marker(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    portals = [ep for ep in sim.endpoints() if ep.kind == "portal"]
    for endpoint in portals:
        sim.set_fault(endpoint.id, Fault("wrong_content"))
    answers = await asyncio.gather(*(fetch(http, ep.url) for ep in portals))
    for endpoint, (status, text) in zip(portals, answers, strict=True):
        assert status == 200
        assert endpoint.body_contains is not None
        assert endpoint.body_contains not in text, endpoint.id


async def test_wrong_content_api_reports_degraded(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    await set_fault(http, sim, {"endpoint": "csdldc-api", "mode": "wrong_content"})
    async with http.get(url_of(sim, "csdldc-api")) as response:
        assert response.status == 200
        assert (await response.json())["status"] == "degraded"


async def test_mode_ok_clears_one_fault_and_leaves_the_others(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    await set_fault(http, sim, {"endpoint": "hue-portal", "mode": "down"})
    await set_fault(http, sim, {"endpoint": "ca-mau-portal", "mode": "down"})
    assert await set_fault(http, sim, {"endpoint": "hue-portal", "mode": "ok"}) == (
        200,
        {"endpoint": "hue-portal", "mode": "ok"},
    )
    assert (await fetch(http, url_of(sim, "hue-portal")))[0] == 200
    assert (await fetch(http, url_of(sim, "ca-mau-portal")))[0] == 503


async def test_control_lists_active_faults(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    await set_fault(http, sim, {"endpoint": "byt-portal", "mode": "slow", "delay": 1.5})
    sim.set_fault("ngsp-portal", Fault("hang"))
    async with http.get(f"{sim.base_url}/_control/faults") as response:
        listed = (await response.json())["faults"]
    assert listed == [
        {"endpoint": "byt-portal", "mode": "slow", "delay": 1.5},
        {"endpoint": "ngsp-portal", "mode": "hang"},
    ]


async def test_clearing_all_faults_restores_200_everywhere(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    endpoints = sim.endpoints()
    for endpoint in endpoints:
        sim.set_fault(endpoint.id, Fault("down"))
    async with http.delete(f"{sim.base_url}/_control/faults") as response:
        assert await response.json() == {"cleared": len(endpoints)}
    answers = await asyncio.gather(*(fetch(http, ep.url) for ep in endpoints))
    assert {status for status, _ in answers} == {200}
    assert sim.faults == {}


async def test_control_lists_every_endpoint_with_its_expectations(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{sim.base_url}/_control/endpoints") as response:
        listed = (await response.json())["endpoints"]
    assert [item["id"] for item in listed] == [ep.id for ep in sim.endpoints()]
    nghe_an = next(item for item in listed if item["id"] == "nghe-an-portal")
    assert nghe_an["url"] == url_of(sim, "nghe-an-portal")
    assert nghe_an["body_contains"] == "Nghệ An"
    assert 40 <= nghe_an["base_latency_ms"] <= 250


async def test_control_rejects_an_unknown_endpoint_with_404_naming_it(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    status, body = await set_fault(http, sim, {"endpoint": "atlantis-portal", "mode": "down"})
    assert status == 404
    assert "atlantis-portal" in body["error"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"endpoint": "ngsp-api", "mode": "explode"}, "mode"),
        ({"endpoint": "ngsp-api"}, "mode"),
        ({"mode": "down"}, "endpoint"),
        ({"endpoint": "ngsp-api", "mode": "slow", "delay": "soon"}, "delay"),
        ({"endpoint": "ngsp-api", "mode": "slow", "delay": -1}, "delay"),
        ({"endpoint": "ngsp-api", "mode": "down", "status": 200}, "status"),
        ({"endpoint": "ngsp-api", "mode": "down", "status": True}, "status"),
        (["ngsp-api", "down"], "JSON object"),
    ],
)
async def test_control_rejects_a_bad_fault_with_400_naming_the_problem(
    sim: FleetSimulator, http: aiohttp.ClientSession, body: object, named: str
) -> None:
    status, answer = await set_fault(http, sim, body)
    assert status == 400
    assert named in answer["error"]
    assert sim.faults == {}


async def test_control_rejects_a_body_that_is_not_json(
    sim: FleetSimulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{sim.base_url}/_control/faults", data=b"mode=down") as response:
        assert response.status == 400
        assert "JSON" in (await response.json())["error"]


async def test_python_api_rejects_an_unknown_endpoint(sim: FleetSimulator) -> None:
    with pytest.raises(UnknownEndpointError, match="atlantis"):
        sim.set_fault("atlantis-portal", Fault("down"))


async def test_stop_is_prompt_with_a_hanging_request_in_flight(
    http: aiohttp.ClientSession,
) -> None:
    fleet = FleetSimulator(load_agencies(), latency_scale=0)
    await fleet.start()
    fleet.set_fault("ngsp-api", Fault("hang"))
    request = asyncio.create_task(fetch(http, url_of(fleet, "ngsp-api")))
    async with asyncio.timeout(2):
        await fleet.wait_stalled(1)
    started = time.monotonic()
    await fleet.stop()
    assert time.monotonic() - started < 0.5
    with pytest.raises(aiohttp.ClientError):
        await asyncio.wait_for(request, timeout=2)


def test_base_url_is_unavailable_before_start() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = FleetSimulator(load_agencies()).base_url


def test_base_latency_is_deterministic_for_a_seed_and_within_its_kinds_range() -> None:
    agencies = load_agencies()
    first = FleetSimulator(agencies, seed=7)
    again = FleetSimulator(agencies, seed=7)
    other = FleetSimulator(agencies, seed=8)
    ids = [ep.id for ep in first.endpoints("http://fleet.test")]
    assert [first.base_latency(i) for i in ids] == [again.base_latency(i) for i in ids]
    assert [first.base_latency(i) for i in ids] != [other.base_latency(i) for i in ids]
    for endpoint_id in ids:
        low, high = BASE_LATENCY_MS[KIND_OF[endpoint_id.rsplit("-", 1)[0]]]
        assert low / 1000 <= first.base_latency(endpoint_id) <= high / 1000


def test_per_request_latency_repeats_for_a_seed_and_never_drops_below_the_floor() -> None:
    first = EndpointLatency(3, "hue-portal", "province")
    again = EndpointLatency(3, "hue-portal", "province")
    draws = [first.next() for _ in range(200)]
    assert draws == [again.next() for _ in range(200)]
    assert min(draws) >= first.minimum
    assert len(set(draws)) == 200
    assert EndpointLatency(3, "hue-portal", "province", scale=0).next() == 0


async def test_latency_scale_makes_answers_take_the_simulated_latency(
    http: aiohttp.ClientSession,
) -> None:
    async with FleetSimulator(load_agencies(), seed=1, latency_scale=2.0) as fleet:
        floor = EndpointLatency(1, "ngsp-api", "platform", scale=2.0).minimum
        started = time.monotonic()
        status, _ = await fetch(http, url_of(fleet, "ngsp-api"))
        assert status == 200
        assert time.monotonic() - started >= floor
