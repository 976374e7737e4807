"""Credentials inside monitored URLs (``https://user:password@host/...?token=...``) are
never shown: not in config errors (printed, logged, returned by the reload API), not in
probe failure reasons, not by the endpoints API, whatever the caller's role."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from collectors._http_errors import describe_error
from collectors.http import HttpProber, ProbeSpec
from core.clock import SystemClock
from monitor_center.config import ConfigError, parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.running import free_port, serving

PASSWORD = "url-password-0123456789"
QUERY_TOKEN = "query-token-0123456789"
VIEWER = "url-viewer-token-0123456789"
ADMIN = "url-admin-token-0123456789"


def fleet(url: str) -> str:
    return f"""
auth:
  tokens:
    - {{name: wall, token: {VIEWER}, role: viewer}}
    - {{name: admin, token: {ADMIN}, role: admin}}
agencies:
  - {{id: ngsp, name: NGSP, kind: platform}}
endpoints:
  - {{id: ngsp-portal, agency: ngsp, url: "{url}", interval: 1s, timeout: 1s}}
"""


def config_error(url: str) -> str:
    with pytest.raises(ConfigError) as refused:
        parse_config_text(fleet(url), filename="fleet.yaml", env={})
    return str(refused.value)


def test_a_config_error_hides_the_password_of_the_url_it_quotes() -> None:
    message = config_error(f"ftp://ops:{PASSWORD}@files.gov.vn/report.csv")

    assert "endpoints[0].url: expected an http:// or https:// URL" in message
    assert PASSWORD not in message
    assert "ftp://ops:***@files.gov.vn/report.csv" in message


def test_a_config_error_hides_secret_query_parameters_of_the_url_it_quotes() -> None:
    message = config_error(f"gopher://portal.gov.vn/x?lang=vi&access_token={QUERY_TOKEN}")

    assert QUERY_TOKEN not in message
    assert "?lang=vi&access_token=***" in message


def test_check_config_prints_url_errors_without_the_password(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(fleet(f"ftp://ops:{PASSWORD}@files.gov.vn/"), encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "monitor_center.cli", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "ftp://ops:***@files.gov.vn/" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


async def test_a_probe_reason_hides_the_password_of_the_url() -> None:
    spec = ProbeSpec("portal", f"//ops:{PASSWORD}@portal.gov.vn/x", timeout=1.0)  # no scheme

    async with HttpProber(clock=SystemClock()) as prober:
        result = await prober.probe(spec)

    assert result.reason == "invalid url '//ops:***@portal.gov.vn/x'"


def test_a_failure_described_from_aiohttp_hides_the_password() -> None:
    reason = describe_error(aiohttp.InvalidURL(f"http://ops:{PASSWORD}@[::1/x?token=abc"))

    assert reason == "invalid url: http://ops:***@[::1/x?token=***"


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    url = f"http://monitor:{PASSWORD}@127.0.0.1:{free_port()}/portal?token={QUERY_TOKEN}&lang=vi"
    config = parse_config_text(fleet(url), filename="fleet.yaml", env={})
    service = Service(Settings(database_url=SecretStr(db_url)), config)
    async with serving(service) as base, aiohttp.ClientSession() as http:
        yield base, http


@pytest.mark.parametrize("token", [VIEWER, ADMIN], ids=["viewer", "admin"])
@pytest.mark.parametrize("path", ["/api/v1/endpoints", "/api/v1/endpoints/ngsp-portal"])
async def test_the_endpoints_api_hides_url_credentials_from_every_role(
    api: tuple[str, aiohttp.ClientSession], token: str, path: str
) -> None:
    base, http = api
    async with http.get(base + path, headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200
        text = await r.text()
        body: Any = await r.json()

    endpoint = body[0] if isinstance(body, list) else body
    assert endpoint["url"].startswith("http://monitor:***@127.0.0.1:")
    assert endpoint["url"].endswith("/portal?token=***&lang=vi")
    assert PASSWORD not in text and QUERY_TOKEN not in text
