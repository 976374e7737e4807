"""Secrets never leak: not in any response, not in any log record, from start-up through
requests, the live feed, failed notification deliveries and a refused config reload.

The center holds every kind of secret: API tokens, a metrics token, a webhook signing
secret, an SMTP password, a Telegram bot token and a database password. Every channel
points at a closed port, so each delivery fails and is logged and recorded with its error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import SecretStr
from websockets.sync.client import connect

from monitor_center.api.live_route import LIVE_PATH
from monitor_center.config import parse_config_text
from monitor_center.db import DatabaseUnavailable
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.dbutil import scratch_database
from tests.receivers import unused_port
from tests.security.center import (
    ADMIN,
    BOT_TOKEN,
    HANOI,
    HANOI_ENDPOINT,
    HANOI_SERIES,
    METRICS_TOKEN,
    OPERATOR,
    SMTP_PASSWORD,
    VIEWER,
    WEBHOOK_SECRET,
    WRONG,
    Running,
    center_on,
    config_yaml,
    wait_for,
)
from tests.security.test_authorization_matrix import WS, app_routes

DB_PASSWORD = "database-password-0123456789"
CHANNELS = {"ops-hook", "ops-mail", "ops-chat"}


@pytest.fixture
def database_url(migrated_template: str) -> Iterator[tuple[str, str]]:
    """A scratch database's URL with a password in it, and that password.

    The local server trusts loopback and ignores a password it did not ask for; a URL
    that already carries one (MONITOR_TEST_DATABASE_URL) keeps it, and it is the secret.
    """
    with scratch_database(template=migrated_template) as url:
        params = conninfo_to_dict(url)
        password = str(params.get("password") or DB_PASSWORD)
        yield make_conninfo(url, password=password), password


@pytest.fixture
def secrets(database_url: tuple[str, str]) -> list[str]:
    """Every secret value, as configured and URL-encoded."""
    plain = [VIEWER, OPERATOR, ADMIN, HANOI, METRICS_TOKEN, WEBHOOK_SECRET, SMTP_PASSWORD]
    plain += [BOT_TOKEN, BOT_TOKEN.partition(":")[2], database_url[1]]
    return sorted({form for s in plain for form in (s, quote(s, safe=""))})


@pytest.fixture
def center(
    database_url: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[Running]:
    """The center with a metrics token and a database password, logging at DEBUG."""
    caplog.set_level(logging.DEBUG)
    with center_on(database_url[0], tmp_path, metrics_token=True) as started:
        yield started


def leaked(texts: list[str], secrets: list[str]) -> list[str]:
    """The texts that contain a secret, cut to the neighbourhood of the first one found."""
    found = []
    for text in texts:
        for secret in secrets:
            at = text.find(secret)
            if at >= 0:
                found.append(text[max(0, at - 80) : at + len(secret) + 20])
                break
    return found


def failed_deliveries(center: Running) -> set[str] | None:
    """The channels with a failed (retried) delivery, once all three have one."""
    rows = center.call("GET", "/api/v1/notifications", ADMIN).json()
    failed = {
        r["channel_id"] for r in rows if any(a["outcome"] == "retry" for a in r["attempt_log"])
    }
    return failed if failed >= CHANNELS else None


def visit_everything(center: Running) -> list[str]:
    """Every GET route as the admin (``/metrics`` with its token), the live feed's
    snapshot, and a reload of a broken file: every text the center answered."""
    wait_for(lambda: failed_deliveries(center), timeout=20, what="a failed delivery per channel")
    alert_id = center.call("GET", "/api/v1/alerts", ADMIN).json()[0]["id"]
    values = {
        "endpoint_id": HANOI_ENDPOINT,
        "series_id": HANOI_SERIES,
        "alert_id": str(alert_id),
        "name": "wall.js",
    }
    texts = []
    for method, path in app_routes(center.service.app):
        if method != "GET":
            continue
        for name, value in values.items():
            path = path.replace(f"{{{name}}}", value).replace(f"{{{name}:path}}", value)
        token = METRICS_TOKEN if path == "/metrics" else ADMIN
        reply = center.call("GET", path, token)
        assert reply.status == 200, (path, reply.status, reply.body[:200])
        texts += [reply.body.decode("utf-8", "replace"), *(f"{k}: {v}" for k, v in reply.headers)]
    assert (WS, LIVE_PATH) in app_routes(center.service.app)
    with connect(f"{center.ws}{LIVE_PATH}?token={ADMIN}", open_timeout=5) as feed:
        texts.append(str(feed.recv(timeout=5)))
    texts.append(reload_a_broken_file(center))
    return texts


def reload_a_broken_file(center: Running) -> str:
    """Rewrite the config with a token and a webhook secret each where a mapping belongs
    (an easy slip in YAML), ask for a reload, and return the refusal's body."""
    path = center.config_path
    good = path.read_text(encoding="utf-8")
    broken = good.replace(f"- {{name: admin, token: {ADMIN}, role: admin}}", f"- {ADMIN}")
    broken = broken.replace("  - {id: ops-hook,", f"  - {WEBHOOK_SECRET}\n  - {{id: ops-hook2,")
    assert broken.count(ADMIN) == 1 and broken != good
    path.write_text(broken, encoding="utf-8")
    try:
        reply = center.call("POST", "/api/v1/config/reload", ADMIN)
    finally:
        path.write_text(good, encoding="utf-8")
    assert reply.status == 422, reply.body
    return reply.body.decode()


def log_texts(records: list[logging.LogRecord]) -> list[str]:
    """Messages and tracebacks of the center's records (not of this test's own
    websocket client, which logs the URL it opens)."""
    formatter = logging.Formatter()
    texts = []
    for record in records:
        if record.name.startswith("websockets.client"):
            continue
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(formatter.formatException(record.exc_info))
        if record.stack_info:
            texts.append(record.stack_info)
    return texts


def test_no_secret_appears_in_any_response(center: Running, secrets: list[str]) -> None:
    texts = visit_everything(center)
    assert len(texts) > 20
    assert leaked(texts, secrets) == []


def test_no_secret_reaches_the_logs_from_start_to_a_failed_delivery_and_a_bad_reload(
    center: Running, secrets: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    visit_everything(center)
    records = caplog.get_records("setup") + caplog.get_records("call")
    messages = [r.getMessage() for r in records]
    assert any("notification" in m and "ops-chat" in m for m in messages)  # deliveries failed
    assert any("WebSocket" in m for m in messages)  # the feed's handshake was logged
    assert leaked(log_texts(records), secrets) == []


def test_metrics_need_the_metrics_token_when_one_is_set(center: Running) -> None:
    assert center.call("GET", "/metrics").status == 401
    assert center.call("GET", "/metrics", WRONG).status == 401
    reply = center.call("GET", "/metrics", METRICS_TOKEN)
    assert reply.status == 200 and b"monitor_center_probe_results_total" in reply.body


@pytest.mark.parametrize("form", ["url", "conninfo"])
def test_an_unreachable_database_is_reported_without_its_password(
    form: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = unused_port()
    url = {
        "url": f"postgresql://monitor:{DB_PASSWORD}@127.0.0.1:{port}/center",
        "conninfo": f"host=127.0.0.1 port={port} user=monitor password={DB_PASSWORD}",
    }[form]
    config = parse_config_text(config_yaml("http://127.0.0.1:9"), filename="c.yaml", env={})
    settings = Settings(database_url=SecretStr(url), connect_give_up_seconds=0)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DatabaseUnavailable) as refused:
        asyncio.run(Service(settings, config).start())
    assert "unreachable" in str(refused.value)
    assert leaked([str(refused.value), *log_texts(caplog.records)], [DB_PASSWORD]) == []
