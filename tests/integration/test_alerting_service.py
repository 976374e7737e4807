"""Alerting in the running center: detection to the webhook and the live feed, the
alert API (list, acknowledge), silences, maintenance windows, notifications, metrics."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect

from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.receivers import Receiver
from tests.running import Backend, loopback_backend, serving
from tests.waiting import wait_until

VIEWER = "viewer-token-0123456789"
OPERATOR = "operator-token-0123456789"
ADMIN = "admin-token-0123456789abc"
INTERVAL = 1.0
FAILURES = 2


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    async with loopback_backend() as state:
        yield state


def config_text(backend: Backend, hook: str) -> str:
    return f"""
auth:
  tokens:
    - {{name: wall, token: {VIEWER}, role: viewer}}
    - {{name: truc-ban, token: {OPERATOR}, role: operator}}
    - {{name: admin, token: {ADMIN}, role: admin}}
agencies:
  - {{id: ngsp, name: "Nền tảng NGSP", kind: platform}}
  - {{id: nghe-an, name: "Nghệ An", kind: province, depends_on: [ngsp]}}
endpoints:
  - {{id: ngsp-portal, agency: ngsp, url: "{backend.url}/ngsp", interval: 1s}}
  - {{id: nghe-an-portal, agency: nghe-an, url: "{backend.url}/nghe-an", interval: 1s}}
rules:
  - {{id: endpoint-down, kind: endpoint_down, severity: critical, failures: {FAILURES}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{hook}/hook", secret: "hook-secret-0123456789"}}
routes:
  - {{channels: [ops-hook]}}
"""


@dataclass
class Center:
    service: Service
    backend: Backend
    hook: Receiver
    base: str
    http: aiohttp.ClientSession

    async def call(
        self, method: str, path: str, token: str = VIEWER, body: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with self.http.request(method, self.base + path, headers=headers, json=body) as r:
            if r.content_type == "application/json":
                return r.status, await r.json()
            return r.status, await r.text()

    async def alerts(self, query: str = "") -> list[dict[str, Any]]:
        status, body = await self.call("GET", f"/api/v1/alerts{query}")
        assert status == 200, body
        return list(body)


@pytest.fixture
async def center(db_url: str, backend: Backend) -> AsyncIterator[Center]:
    async with Receiver() as hook:
        config = parse_config_text(config_text(backend, hook.url), filename="c.yaml", env={})
        settings = Settings(database_url=SecretStr(db_url), rule_eval_interval=0.5)
        service = Service(settings, config)
        async with serving(service) as base, aiohttp.ClientSession() as http:
            yield Center(service, backend, hook, base, http)


async def firing(center: Center, subject: str) -> dict[str, Any] | None:
    found = [a for a in await center.alerts("?state=firing") if a["subject"] == subject]
    return found[0] if found else None


async def test_an_outage_reaches_the_webhook_and_the_feed_and_its_recovery_resolves(
    center: Center,
) -> None:
    ws_url = center.base.replace("http", "ws", 1) + f"/ws/live?token={VIEWER}"
    async with connect(ws_url, proxy=None, open_timeout=5) as feed:
        snapshot = json.loads(await feed.recv())
        assert snapshot["type"] == "snapshot" and snapshot["alerts"] == []
        outage = time.monotonic()
        center.backend.failing.add("ngsp")
        [request] = await center.hook.wait_for_requests(1, timeout=FAILURES * INTERVAL + 8)
        detected = time.monotonic() - outage
        alert = request.json["alerts"][0]
        assert (request.json["status"], alert["labels"]["subject"]) == ("firing", "ngsp-portal")
        assert "status 503" in alert["annotations"]["summary"]

        while True:  # the feed carries the same transition
            message = json.loads(await feed.recv())
            if message["type"] == "alert" and message["state"] == "firing":
                break
        assert (message["rule"], message["subject"]) == ("endpoint-down", "ngsp-portal")

        recovery = time.monotonic()
        center.backend.failing.clear()
        await center.hook.wait_for_requests(2, timeout=INTERVAL + 8)
        resolved = time.monotonic() - recovery
    assert center.hook.requests[1].json["status"] == "resolved"
    print(f"\noutage -> webhook {detected:.2f} s, recovery -> resolved {resolved:.2f} s")


async def test_an_operator_acknowledges_and_a_viewer_cannot(center: Center) -> None:
    center.backend.failing.add("ngsp")
    alert = await wait_until(lambda: firing(center, "ngsp-portal"), timeout=10, what="firing")
    path = f"/api/v1/alerts/{alert['id']}/ack"

    status, _ = await center.call("POST", path, VIEWER, {"comment": "x"})
    assert status == 403
    status, body = await center.call("POST", path, OPERATOR, {"comment": "đang xử lý"})
    assert status == 200, body
    assert body["acknowledged_by"] == "truc-ban" and body["flags"]["acknowledged"]
    status, body = await center.call("GET", f"/api/v1/alerts/{alert['id']}")
    assert [e["event"] for e in body["events"]][-1] == "acknowledged"
    assert body["ack_comment"] == "đang xử lý"


async def test_acknowledging_a_resolved_or_unknown_alert_is_refused(center: Center) -> None:
    center.backend.failing.add("ngsp")
    alert = await wait_until(lambda: firing(center, "ngsp-portal"), timeout=10, what="firing")
    center.backend.failing.clear()

    async def resolved() -> bool:
        return any(a["id"] == alert["id"] for a in await center.alerts("?state=resolved"))

    await wait_until(resolved, timeout=10, what="resolved")
    status, body = await center.call("POST", f"/api/v1/alerts/{alert['id']}/ack", OPERATOR)
    assert status == 409 and "resolved" in body["detail"]
    status, _ = await center.call("POST", "/api/v1/alerts/999999/ack", OPERATOR)
    assert status == 404


async def test_alerts_are_filtered_by_state_agency_and_severity(center: Center) -> None:
    center.backend.failing.add("nghe-an")
    await wait_until(lambda: firing(center, "nghe-an-portal"), timeout=10, what="firing")
    assert [a["agency"] for a in await center.alerts("?agency=nghe-an")] == ["nghe-an"]
    assert await center.alerts("?agency=ngsp") == []
    assert await center.alerts("?severity=warning") == []
    status, body = await center.call("GET", "/api/v1/alerts?state=burning")
    assert status == 422 and "state" in json.dumps(body)


async def test_a_silence_created_through_the_api_holds_back_a_new_alert(center: Center) -> None:
    status, silence = await center.call(
        "POST",
        "/api/v1/silences",
        OPERATOR,
        {"matchers": {"subject": "nghe-an-*"}, "duration": "PT1H", "comment": "bảo trì"},
    )
    assert status == 201, silence
    assert silence["author"] == "truc-ban" and silence["active"]
    center.backend.failing.add("nghe-an")
    alert = await wait_until(lambda: firing(center, "nghe-an-portal"), timeout=10, what="firing")
    assert alert["flags"]["silenced"]
    assert center.hook.requests == []

    status, ended = await center.call("DELETE", f"/api/v1/silences/{silence['id']}", OPERATOR)
    assert status == 200 and not ended["active"]
    [request] = await center.hook.wait_for_requests(1, timeout=5)  # released at once
    assert request.json["alerts"][0]["annotations"]["reason"] == "released"


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"matchers": {}, "duration": "PT1H"}, "at least one matcher"),
        ({"matchers": {"colour": "red"}, "duration": "PT1H"}, "unknown matcher label"),
        ({"matchers": {"rule": "x"}}, "exactly one of 'ends_at' and 'duration'"),
        ({"matchers": {"rule": "x"}, "ends_at": "2026-01-01T00:00:00"}, "time zone"),
        ({"matchers": {"rule": "x"}, "ends_at": "2001-01-01T00:00:00Z"}, "in the past"),
    ],
)
async def test_a_bad_silence_is_refused_with_the_reason(
    center: Center, body: dict[str, Any], complaint: str
) -> None:
    status, answer = await center.call("POST", "/api/v1/silences", OPERATOR, body)
    assert status == 422
    assert complaint in json.dumps(answer, ensure_ascii=False)


async def test_maintenance_windows_are_admin_only_and_checked(center: Center) -> None:
    window = {
        "agency": "nghe-an",
        "starts_at": "2026-11-29T01:00:00+07:00",
        "ends_at": "2026-11-29T03:00:00+07:00",
        "recurring": "weekly",
        "comment": "nâng cấp",
    }
    status, _ = await center.call("POST", "/api/v1/maintenance", OPERATOR, window)
    assert status == 403
    status, body = await center.call("POST", "/api/v1/maintenance", ADMIN, window | {"agency": "x"})
    assert status == 422 and "unknown agency 'x'" in body["detail"]
    status, created = await center.call("POST", "/api/v1/maintenance", ADMIN, window)
    assert status == 201 and created["source"] == "api" and created["author"] == "admin"
    status, listed = await center.call("GET", "/api/v1/maintenance")
    assert [w["id"] for w in listed] == [created["id"]]
    status, _ = await center.call("DELETE", f"/api/v1/maintenance/{created['id']}", ADMIN)
    assert status == 204


async def test_notifications_and_their_attempts_are_visible_and_counted(center: Center) -> None:
    center.backend.failing.add("ngsp")
    await center.hook.wait_for_requests(1, timeout=10)

    async def sent() -> list[dict[str, Any]] | None:
        _, rows = await center.call("GET", "/api/v1/notifications")
        return rows if rows and rows[0]["state"] == "sent" else None

    [row] = await wait_until(sent, timeout=5, what="the notification recorded as sent")
    assert (row["channel_id"], row["status"], row["attempts"]) == ("ops-hook", "firing", 1)
    assert row["attempt_log"][0]["outcome"] == "sent"
    _, metrics = await center.call("GET", "/metrics")
    assert 'monitor_center_notifications_total{channel="ops-hook",outcome="sent"} 1.0' in metrics
    assert 'monitor_center_alerts{severity="critical",state="firing",suppressed="false"} 1.0' in (
        metrics
    )
