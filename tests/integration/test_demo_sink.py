"""The demo's alert sink: signed webhooks printed as lines, anything else refused; the
demo config routes every alert to it, and a fault injected in the demo prints a line."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from rich.console import Console

from alerts.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookChannel, sign
from alerts.model import Alert
from alerts.notice import Notice
from monitor_center.alerting.policy import build_channels, build_policy
from monitor_center.config import parse_config_text
from monitor_center.demo.agencies import load_agencies
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.fleet_config import fleet_config_yaml
from monitor_center.demo.runner import run_demo
from monitor_center.demo.sink import WebhookSink, alert_line
from monitor_center.settings import Settings
from tests.running import free_port
from tests.waiting import wait_until

SECRET = "sink-secret-0123456789"
SUMMARY = "Cổng Nghệ An: trạng thái 503 (lần 2/2)"
STARTED = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@dataclass
class Printed:
    """A running sink and what it has printed so far."""

    sink: WebhookSink
    buffer: io.StringIO

    @property
    def lines(self) -> list[str]:
        return self.buffer.getvalue().splitlines()


@pytest.fixture
async def printed() -> AsyncIterator[Printed]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    async with WebhookSink(SECRET, console) as sink:
        yield Printed(sink, buffer)


def notice(status: str = "firing") -> Notice:
    return Notice(
        alert_id=7,
        status="firing" if status == "firing" else "resolved",
        rule="endpoint-down",
        rule_kind="endpoint_down",
        subject="nghe-an-portal",
        severity="critical",
        summary=SUMMARY,
        starts_at=STARTED,
        agency="nghe-an",
        agency_kind="province",
    )


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


def signed_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    now = int(time.time())
    return {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: sign(secret, now, body)}


async def test_a_signed_firing_alert_is_printed_with_its_diacritics(printed: Printed) -> None:
    channel = WebhookChannel("demo-sink", printed.sink.url, secret=SECRET)
    await channel.send(notice(), timeout=5)
    [line] = printed.lines
    assert line.split()[1:5] == ["FIRING", "critical", "endpoint-down", "nghe-an-portal"]
    assert line.endswith(SUMMARY)


async def test_a_resolution_prints_as_resolved(printed: Printed) -> None:
    channel = WebhookChannel("demo-sink", printed.sink.url, secret=SECRET)
    await channel.send(notice("resolved"), timeout=5)
    assert printed.lines[0].split()[1] == "RESOLVED"


def test_the_status_is_coloured_and_a_bracket_in_a_summary_stays_literal() -> None:
    alert = {
        "status": "firing",
        "labels": {"rule": "slow-portal", "subject": "ha-noi-portal", "severity": "warning"},
        "annotations": {"summary": "p95 [bold]2.4 s[/bold]"},
    }
    text = alert_line(alert, received=time.time())
    styles = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
    assert styles["FIRING  "] == "bold red"
    assert styles["warning "] == "yellow"
    assert text.plain.endswith("p95 [bold]2.4 s[/bold]")


async def test_a_wrong_signature_is_refused_with_401_and_a_line(printed: Printed) -> None:
    body = b'{"alerts": []}'
    assert await post(printed.sink.url, body, signed_headers(body, "someone-else")) == 401
    assert await post(printed.sink.url, body, {}) == 401
    assert len(printed.lines) == 2
    assert all("refused" in line and "signature" in line for line in printed.lines)


@pytest.mark.parametrize("body", [b"not json", b'{"alerts": "x"}', b"\xff\xfe"])
async def test_a_signed_body_that_is_not_webhook_json_is_refused_with_400(
    printed: Printed, body: bytes
) -> None:
    assert await post(printed.sink.url, body, signed_headers(body)) == 400
    [line] = printed.lines
    assert "refused" in line and "JSON" in line


async def test_the_demo_config_routes_every_alert_to_the_sink(printed: Printed) -> None:
    agencies = [a for a in load_agencies() if a.id in ("ngsp", "nghe-an")]
    text = fleet_config_yaml(
        FleetSimulator(agencies).endpoints("http://fleet.test:8090"),
        agencies,
        viewer_token="viewer-token-0123456789",
        operator_token="operator-token-0123456789",
        admin_token="admin-token-0123456789ab",
        sink_url=printed.sink.url,
        sink_secret=SECRET,
    )
    config = parse_config_text(text, filename="demo.yaml", env={})
    assert {r.kind for r in config.rules} == {"endpoint_down", "latency", "availability"}
    policy = build_policy(config, [], [])
    for rule, kind, subject, agency_kind in [
        ("endpoint-down", "endpoint_down", "nghe-an-portal", "province"),
        ("platform-slo", "availability", "ngsp-portal", "platform"),
        ("slow-portal", "latency", "ngsp-portal", "platform"),
    ]:
        alert = Alert(rule, kind, subject, "warning", "firing", STARTED, STARTED)
        alert.agency_kind = agency_kind
        assert policy.channels_for(alert) == ["demo-sink"], rule
    # The channel the service builds from this config is signed with the sink's secret.
    await build_channels(config)["demo-sink"].send(notice(), timeout=5)
    assert "FIRING" in printed.lines[0]


def test_without_a_sink_the_demo_config_has_no_channels() -> None:
    agencies = [a for a in load_agencies() if a.id == "ngsp"]
    text = fleet_config_yaml(
        FleetSimulator(agencies).endpoints("http://fleet.test:8090"),
        agencies,
        viewer_token="viewer-token-0123456789",
        operator_token="operator-token-0123456789",
        admin_token="admin-token-0123456789ab",
    )
    config = parse_config_text(text, filename="demo.yaml", env={})
    assert (config.channels, config.routes) == ([], [])


async def test_a_fault_injected_in_the_demo_prints_a_firing_line(
    db_url: str, tmp_path: Path
) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    port, fleet_port = free_port(), free_port()
    demo = asyncio.create_task(
        run_demo(
            Settings(database_url=SecretStr(db_url)),
            port=port,
            fleet_port=fleet_port,
            interval="1s",
            data_dir=tmp_path,
            console=console,
        )
    )
    try:
        await _inject_and_watch(demo, buffer, fleet_port)
    finally:
        demo.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await demo


async def _inject_and_watch(demo: asyncio.Task[None], buffer: io.StringIO, fleet_port: int) -> None:
    async def banner_printed() -> bool:
        if demo.done():
            demo.result()  # raises whatever stopped the demo
        return "printed below as they arrive" in buffer.getvalue()

    await wait_until(banner_printed, timeout=60, what="the demo's banner")
    fault = {"endpoint": "ngsp-portal", "mode": "down"}
    url = f"http://127.0.0.1:{fleet_port}/_control/faults"
    async with aiohttp.ClientSession() as http, http.post(url, json=fault) as reply:
        assert reply.status == 200, await reply.text()
    injected = time.monotonic()

    async def firing_line() -> str | None:
        lines = buffer.getvalue().splitlines()
        found = [ln for ln in lines if "FIRING" in ln and "ngsp-portal" in ln]
        return found[0] if found else None

    # failures: 2 at a 1 s interval; the rest is slack for a loaded test machine.
    line = await wait_until(firing_line, timeout=15, what="a FIRING line for ngsp-portal")
    assert "endpoint-down" in line and "critical" in line
    print(f"\nfault -> FIRING line in {time.monotonic() - injected:.2f} s")
