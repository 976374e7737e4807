"""A center for the security tests: a token per role plus an agency-scoped one, channels
that carry secrets and point at a closed port, run in a thread so that synchronous
clients (``http.client``, schemathesis, websockets' sync client) can call it."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import SecretStr

from monitor_center.config import Config, load_config
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.receivers import unused_port
from tests.running import serving

VIEWER = "viewer-token-sec-0123456789"
OPERATOR = "operator-token-sec-0123456789"
ADMIN = "admin-token-sec-0123456789"
HANOI = "ha-noi-viewer-token-sec-0123456789"
"""A viewer scoped to agency ``ha-noi``."""
WRONG = "not-a-configured-token-0123456789"
METRICS_TOKEN = "metrics-scrape-token-0123456789"
WEBHOOK_SECRET = "webhook-hmac-secret-0123456789"
SMTP_PASSWORD = "smtp-password-0123456789"
BOT_TOKEN = "123456789:telegram-bot-token-0123456789"
HANOI_ENDPOINT, HANOI_SERIES = "ha-noi-portal", "ha-noi-dossiers"
T = TypeVar("T")


def config_yaml(dead: str, *, metrics_token: bool = False) -> str:
    """The fleet: both endpoints and every channel at ``dead`` (a closed port), so
    ``ha-noi-portal`` goes down at once and each notification fails and is retried."""
    port = urlsplit(dead).port
    center = f"center: {{metrics_token: {METRICS_TOKEN}}}\n" if metrics_token else ""
    return (
        center
        + f"""
auth:
  tokens:
    - {{name: wall, token: {VIEWER}, role: viewer}}
    - {{name: truc-ban, token: {OPERATOR}, role: operator}}
    - {{name: admin, token: {ADMIN}, role: admin}}
    - {{name: ha-noi-team, token: {HANOI}, role: viewer, agency: ha-noi}}
agencies:
  - {{id: ngsp, name: NGSP, kind: platform}}
  - {{id: ha-noi, name: "Hà Nội", kind: province, depends_on: [ngsp]}}
endpoints:
  - {{id: ngsp-api, agency: ngsp, url: "{dead}/ngsp", interval: 1s, timeout: 1s}}
  - {{id: {HANOI_ENDPOINT}, agency: ha-noi, url: "{dead}/ha-noi", interval: 1s, timeout: 1s}}
series:
  - id: {HANOI_SERIES}
    agency: ha-noi
    kind: counter
    unit: dossiers
    interval: 1m
    target: 100
    source: {{type: json, url: "{dead}/kpi", path: "$.total"}}
rules:
  - {{id: endpoint-down, kind: endpoint_down, severity: critical, failures: 1}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{dead}/hook", secret: "{WEBHOOK_SECRET}"}}
  - id: ops-mail
    kind: email
    to: [truc-ban@example.gov.vn]
    smtp_host: 127.0.0.1
    smtp_port: {port}
    username: monitor
    password: "{SMTP_PASSWORD}"
  - {{id: ops-chat, kind: telegram, bot_token: "{BOT_TOKEN}", chat_id: "-100123",
      base_url: "{dead}"}}
routes:
  - {{channels: [ops-hook, ops-mail, ops-chat]}}
"""
    )


def write_config(directory: Path, *, metrics_token: bool = False) -> Path:
    path = directory / "center.yaml"
    dead = f"http://127.0.0.1:{unused_port()}"
    path.write_text(config_yaml(dead, metrics_token=metrics_token), encoding="utf-8")
    return path


def new_service(database_url: str, config_path: Path) -> Service:
    """A service reading ``config_path`` (so the admin reload has a file to re-read)."""

    def load() -> Config:
        return load_config(config_path, {})

    settings = Settings(database_url=SecretStr(database_url), rule_eval_interval=0.5)
    return Service(settings, load(), config_loader=load)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[0] if found else None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Running:
    """A started, serving center: its base URL and the service behind it."""

    base: str
    service: Service
    config_path: Path

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://", 1)

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """One request on a fresh connection; any status comes back, none raises."""
        parts = urlsplit(self.base)
        sent = dict(headers or {})
        data = None
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=15)
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            return Reply(response.status, response.getheaders(), response.read())
        finally:
            conn.close()


@contextmanager
def center_on(
    database_url: str, directory: Path, *, metrics_token: bool = False
) -> Iterator[Running]:
    """A center on ``database_url`` whose config file is written in ``directory``."""
    config_path = write_config(directory, metrics_token=metrics_token)
    with running(new_service(database_url, config_path), config_path) as started:
        yield started


@contextmanager
def running(service: Service, config_path: Path) -> Iterator[Running]:
    """Start and serve ``service`` on its own event loop in a thread; stop it on exit."""
    started: Future[tuple[str, asyncio.AbstractEventLoop, asyncio.Event]] = Future()

    async def main() -> None:
        stop = asyncio.Event()
        async with serving(service) as base:
            started.set_result((base, asyncio.get_running_loop(), stop))
            await stop.wait()

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            if started.done():
                raise
            started.set_exception(exc)

    thread = threading.Thread(target=thread_main, name="security-center", daemon=True)
    thread.start()
    base, loop, stop = started.result(timeout=60)
    try:
        yield Running(base, service, config_path)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        assert not thread.is_alive(), "the center did not stop within 30 s"


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """``check()``'s first truthy value; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def firing_alert(center: Running) -> int:
    """The id of ``ha-noi-portal``'s alert, firing once its first probe fails."""

    def firing() -> int | None:
        alerts = center.call("GET", "/api/v1/alerts?state=firing", ADMIN).json()
        return next((a["id"] for a in alerts if a["subject"] == HANOI_ENDPOINT), None)

    return wait_for(firing, timeout=15, what="ha-noi-portal's alert to fire")
