"""The wall in Debian's chromium against the whole demo fleet and a real center: every
agency shown, a fault turning its tile red within the detection target, the feed lost and
found again across a restart, the token taken from the fragment, series on the counters."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Request, expect

from monitor_center.live import alert_message
from tests.browser.conftest import (
    DETECTION_TARGET,
    VIEWER,
    Center,
    Wall,
    WallFactory,
)
from tests.waiting import wait_until

STALE = re.compile(r"\bstale\b")
GENEROUS = 30_000
"""Playwright waits (ms): long enough to see a slow result rather than a timeout."""


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Put a measurement in the test output even when the test passes."""
    with capsys.disabled():
        print(f"\n[wall] {line}")


async def _opened(open_wall: WallFactory, **size: int) -> Wall:
    wall = await open_wall(**size)
    await wall.open(f"/wall#token={VIEWER}")
    return wall


async def test_every_agency_has_a_tile_with_its_vietnamese_name(
    open_wall: WallFactory, center: Center
) -> None:
    wall = await _opened(open_wall)
    await wall.wait_all_up()
    tiles: list[list[str]] = await wall.page.evaluate(
        "[...document.querySelectorAll('.tile')].map((t) => [t.dataset.agency,"
        " t.querySelector('.tile-name').textContent, t.closest('.group').dataset.kind])"
    )
    expected = [[a.id, a.name_vi, a.kind] for a in center.agencies]
    assert sorted(tiles) == sorted(expected)
    assert len(tiles) == 56
    await expect(wall.page.locator('.tile[data-agency="nghe-an"]')).to_contain_text("Nghệ An")
    await expect(wall.page.locator('.tile[data-agency="ho-chi-minh"]')).to_contain_text(
        "Thành phố Hồ Chí Minh"
    )
    endpoints = len(center.fleet.endpoints())
    await expect(wall.page.locator('#counter-endpoints [data-role="value"]')).to_have_text(
        f"{endpoints} / {endpoints}"
    )
    await expect(wall.page.locator("html")).to_have_attribute("lang", "vi")
    assert await wall.problems() == []

    # The policy is enforced, not only sent: markup parsed from a string is refused.
    refused = await wall.page.evaluate(
        """() => {
          try { document.body.insertAdjacentHTML("beforeend", "<b>x</b>"); return "allowed"; }
          catch (error) { return error.name; }
        }"""
    )
    assert refused == "TypeError"
    assert any("require-trusted-types-for" in p for p in await wall.problems())


async def test_a_fault_turns_the_tile_red_and_adds_the_alert_row_within_the_target(
    open_wall: WallFactory, center: Center, capsys: pytest.CaptureFixture[str]
) -> None:
    wall = await _opened(open_wall, width=3840, height=2160)
    await wall.wait_all_up()
    tile = wall.page.locator('.tile[data-agency="nghe-an"]')
    row = wall.page.locator('#alerts li[data-subject="nghe-an-portal"]')

    started = time.monotonic()
    await center.fault("nghe-an-portal", "down")
    await expect(tile).to_have_attribute("data-state", "down", timeout=GENEROUS)
    red = time.monotonic() - started
    await expect(row).to_be_visible(timeout=GENEROUS)
    alerted = time.monotonic() - started
    _report(
        capsys,
        f"fault -> red tile {red:.2f} s, -> alert row {alerted:.2f} s "
        f"(target {DETECTION_TARGET:g} s)",
    )

    assert alerted <= DETECTION_TARGET
    await expect(tile).to_contain_text("status 503")
    await expect(row).to_contain_text("Nghệ An")
    await expect(row).to_contain_text("critical")
    await expect(row).to_contain_text("chưa xác nhận")
    await expect(wall.page.locator('#counter-alerts [data-role="value"]')).to_have_text("1")
    others = {a: s for a, s in (await wall.tile_states()).items() if a != "nghe-an"}
    assert set(others.values()) == {"up"}

    # The detail panel lists the endpoint with its state and reason.
    await tile.hover()
    detail = wall.page.locator("#detail")
    await expect(detail).to_be_visible()
    await expect(detail).to_contain_text("nghe-an-portal")
    await expect(detail).to_contain_text("Gián đoạn")
    await wall.page.mouse.move(0, 0)
    await expect(detail).to_be_hidden()

    shot = await wall.screenshot("wall.png")
    _report(capsys, f"screenshot {shot}")
    assert await wall.problems() == []


async def test_the_feed_lost_banner_shows_and_the_wall_recovers_after_a_restart(
    open_wall: WallFactory, center: Center, capsys: pytest.CaptureFixture[str]
) -> None:
    wall = await _opened(open_wall)
    await wall.wait_all_up()
    banner = wall.page.locator("#feed-banner")
    await expect(banner).to_be_hidden()

    await center.stop()
    await expect(banner).to_be_visible(timeout=GENEROUS)
    await expect(banner).to_contain_text("Feed lost - reconnecting")
    await expect(wall.page.locator("body")).to_have_class(STALE)
    await wall.screenshot("wall-feed-lost.png")
    # While the center is down the fleet breaks: the wall must learn it from the new one.
    await center.fault("ha-noi-portal", "down")

    restarted = time.monotonic()
    await center.start()
    await expect(banner).to_be_hidden(timeout=GENEROUS)
    back = time.monotonic() - restarted
    await expect(wall.page.locator("body")).not_to_have_class(STALE)
    tile = wall.page.locator('.tile[data-agency="ha-noi"]')
    await expect(tile).to_have_attribute("data-state", "down", timeout=GENEROUS)
    await expect(wall.page.locator('#alerts li[data-subject="ha-noi-portal"]')).to_be_visible(
        timeout=GENEROUS
    )
    _report(capsys, f"restart -> feed back {back:.2f} s (backoff capped at 10 s)")

    # Deltas flow again: the repair is seen live, the alert row goes.
    await center.fault("ha-noi-portal", "ok")
    await expect(tile).to_have_attribute("data-state", "up", timeout=GENEROUS)
    await expect(wall.page.locator('#alerts li[data-subject="ha-noi-portal"]')).to_have_count(
        0, timeout=GENEROUS
    )
    assert await wall.problems() == []


async def test_a_token_in_the_fragment_is_used_kept_and_removed_from_the_address_bar(
    open_wall: WallFactory, center: Center
) -> None:
    wall = await open_wall(width=1366, height=768)
    requests: list[Request] = []
    wall.page.on("request", lambda request: requests.append(request))
    await wall.open(f"/wall#token={VIEWER}")
    await wall.wait_all_up()

    assert wall.page.url == f"{center.base}/wall"
    assert await wall.page.evaluate("location.hash") == ""
    stored = await wall.page.evaluate("localStorage.getItem('monitor-center:wall-token')")
    assert stored == VIEWER
    for request in requests:
        if not request.url.startswith(f"{center.base}/ws/live"):
            assert VIEWER not in request.url, request.url
        assert VIEWER not in (await request.all_headers()).get("referer", "")
    await wall.screenshot("wall-laptop.png", full_page=True)

    # Kept in the browser: the bare URL connects again without asking.
    await wall.open("/wall")
    await wall.wait_all_up()
    await expect(wall.page.locator("#token-dialog")).to_be_hidden()
    assert await wall.problems() == []


async def test_without_a_token_the_wall_asks_and_refuses_a_wrong_one(
    open_wall: WallFactory, center: Center
) -> None:
    wall = await open_wall()
    await wall.open("/wall")
    dialog = wall.page.locator("#token-dialog")
    await expect(dialog).to_be_visible()

    await wall.page.fill("#token-input", "not-a-token-of-this-center")
    await wall.page.click("#token-form button[type=submit]")
    await expect(wall.page.locator("#token-error")).to_contain_text("Token không hợp lệ")
    await expect(dialog).to_be_visible()
    assert await wall.page.evaluate("localStorage.getItem('monitor-center:wall-token')") is None

    await wall.page.fill("#token-input", VIEWER)
    await wall.page.click("#token-form button[type=submit]")
    await expect(dialog).to_be_hidden()
    await wall.wait_all_up()
    assert await wall.problems() == []


def _series(sid: str, agency: str | None, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    """A ``series`` message as ``monitor_center.series.live`` builds it (a gauge by default)."""
    return {
        "type": "series",
        "id": sid,
        "agency": agency,
        "kind": "gauge",
        "value": value,
        "unit": unit,
        "target": None,
        "target_direction": "min",
        "time": datetime.now(UTC).isoformat(),
        **extra,
    }


def _alert(aid: int, agency: str, severity: str, ago: float, **extra: Any) -> dict[str, Any]:
    fired = datetime.now(UTC) - timedelta(seconds=ago)
    return alert_message(
        id=aid,
        state="firing",
        rule=extra.pop("rule", "slow-portal"),
        subject=f"{agency}-portal",
        severity=severity,
        agency=agency,
        summary=extra.pop("summary", "p95 latency above 2 s"),
        started_at=fired,
        fired_at=fired,
        **extra,
    )


async def test_series_and_alerts_fill_the_counters_kpis_ranking_and_amber_tiles(
    open_wall: WallFactory, center: Center, capsys: pytest.CaptureFixture[str]
) -> None:
    """Published on the hub in the shape the telemetry and alerting sides publish."""
    wall = await _opened(open_wall)
    await wall.wait_all_up()
    page = wall.page
    await expect(page.locator('#counter-ngsp [data-role="sub"]')).to_contain_text("no data yet")
    await expect(page.locator("#kpis-empty")).to_be_visible()
    await expect(page.locator("#ranking-empty")).to_be_visible()

    hub = center.running.hub
    for message in [
        _series(
            "ngsp-transactions",
            "ngsp",
            4_400_000,
            "transactions",
            kind="counter",
            rate_per_minute=318.2,
        ),
        _series("dvcqg-level4-share", "dvcqg", 15.9, "%", target=30),
        _series("nghe-an-level4-share", "nghe-an", 4.6, "%", target=30),
        _series("ha-noi-level4-share", "ha-noi", 35.0, "%", target=30),
        _series("bnv-edoc-exchange-rate", "bnv", 88.5, "%", target=90),
        _alert(
            900001,
            "ha-noi",
            "warning",
            ago=300,
            acknowledged_by="truc-ban",
            flags={"acknowledged": True, "flapping": True},
        ),
        _alert(900002, "da-nang", "warning", ago=20),
        _alert(
            900003,
            "bnv",
            "critical",
            ago=90,
            rule="platform-slo",
            summary="error budget burning",
            flags={"inhibited": True},
        ),
    ]:
        hub.publish(message)

    await expect(page.locator('#counter-ngsp [data-role="value"]')).to_have_text("318")
    await expect(page.locator('#counter-level4 [data-role="value"]')).to_have_text("15,9 %")
    await expect(page.locator('#counter-level4 [data-role="sub"]')).to_contain_text("30 %")
    await expect(page.locator("#kpis li")).to_have_count(4)
    # The national KPI first, then the furthest from target.
    await expect(page.locator("#kpis li").first).to_have_attribute(
        "data-series", "dvcqg-level4-share"
    )
    ranking = page.locator("#ranking li")
    await expect(ranking).to_have_count(3)
    assert await ranking.evaluate_all("(rows) => rows.map((r) => r.dataset.agency)") == [
        "ha-noi",
        "bnv",
        "nghe-an",
    ]
    for agency in ("ha-noi", "da-nang", "bnv"):
        await expect(page.locator(f'.tile[data-agency="{agency}"]')).to_have_attribute(
            "data-state", "degraded"
        )
    rows = page.locator("#alerts li")
    await expect(rows).to_have_count(3)
    assert await rows.evaluate_all("(rows) => rows.map((r) => r.dataset.alertId)") == [
        "900002",
        "900003",
        "900001",
    ]
    await expect(rows.nth(2)).to_contain_text("truc-ban đã xác nhận")
    await expect(rows.nth(2)).to_contain_text("flapping")
    await expect(rows.nth(1)).to_contain_text("inhibited")
    await _wait_ticking(page.locator("#alerts li time.duration").first.text_content)

    shot = await wall.screenshot("wall-series.png")
    _report(capsys, f"screenshot {shot}")

    hub.publish(
        alert_message(
            id=900002,
            state="resolved",
            rule="slow-portal",
            subject="da-nang-portal",
            severity="warning",
            agency="da-nang",
        )
    )
    await expect(page.locator('.tile[data-agency="da-nang"]')).to_have_attribute("data-state", "up")
    await expect(rows).to_have_count(2)
    assert await wall.problems() == []


async def _wait_ticking(read: Callable[[], Awaitable[str | None]]) -> None:
    """The duration of the newest alert moves on by itself, once a second."""
    first = await read()

    async def moved() -> bool:
        return (await read()) != first

    await wait_until(moved, timeout=5, what="the alert duration to tick", poll=0.2)
