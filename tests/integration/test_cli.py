"""The ``monitor-center`` command as an operator runs it (a real subprocess)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor_center.demo.agencies import load_agencies
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.fleet_config import fleet_config_yaml
from tests.running import free_port
from tests.unit.config_fixtures import CONFIGS, SECRETS
from tests.waiting import wait_until

CLI = [sys.executable, "-m", "monitor_center.cli"]


def _run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_check_config_exits_0_for_a_valid_file() -> None:
    result = _run("check-config", str(CONFIGS / "valid.yaml"), env=SECRETS)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_check_config_exits_2_listing_every_error_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "fleet.yaml"
    bad.write_text(
        "agencies:\n"
        "  - {id: ngsp, name: NGSP, kind: platform}\n"
        "endpoints:\n"
        "  - {id: a, agency: nowhere, url: 'http://x.gov.vn/'}\n"
        "  - {id: b, agency: ngsp, url: 'ftp://x.gov.vn/', interval: ten}\n",
        encoding="utf-8",
    )
    result = _run("check-config", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "fleet.yaml:4" in result.stderr and "nowhere" in result.stderr
    assert "fleet.yaml:5" in result.stderr and "interval" in result.stderr
    assert "http" in result.stderr


def test_check_config_names_a_missing_file(tmp_path: Path) -> None:
    result = _run("check-config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 2
    assert "absent.yaml" in result.stderr and "Traceback" not in result.stderr


def test_serve_reports_an_unreachable_database_clearly_and_keeps_retrying() -> None:
    closed_port = free_port()
    result = _run(
        "serve",
        "--config",
        str(CONFIGS / "valid.yaml"),
        env={
            **SECRETS,
            "MONITOR_DATABASE_URL": f"postgresql://mc:hunter2secret@127.0.0.1:{closed_port}/mc",
            "MONITOR_CONNECT_RETRY_MAX_SECONDS": "0.2",
            "MONITOR_CONNECT_GIVE_UP_SECONDS": "1.5",
        },
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    retries = re.findall(r"unreachable .*retrying in", result.stderr)
    assert len(retries) >= 3, result.stderr
    assert f"127.0.0.1:{closed_port}" in result.stderr
    assert "hunter2secret" not in result.stderr


def test_serve_refuses_to_start_without_a_database_url() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_DATABASE_URL"}
    result = subprocess.run(
        [*CLI, "serve", "--config", str(CONFIGS / "valid.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, **SECRETS},
        check=False,
    )
    assert result.returncode == 2
    assert "MONITOR_DATABASE_URL" in result.stderr


@pytest.fixture
def demo(db_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    port, fleet_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            *CLI,
            "demo",
            "--duration",
            "60",
            "--port",
            str(port),
            "--fleet-port",
            str(fleet_port),
            "--interval",
            "1s",
            "--data-dir",
            str(tmp_path),
            "--backfill-days",  # history has its own test (test_demo_backfill.py)
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "MONITOR_DATABASE_URL": db_url, "COLUMNS": "200"},
    )
    try:  # the demo is stopped and its pipe closed even when the banner never comes
        info = _read_banner(proc)
        info["api"] = f"http://127.0.0.1:{port}"
        info["fleet"] = f"http://127.0.0.1:{fleet_port}"
        yield proc, info
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()


def _read_banner(proc: subprocess.Popen[str]) -> dict[str, str]:
    assert proc.stdout is not None
    # Raw reads on the descriptor: select() cannot see lines already sitting in a text
    # stream's buffer, so readline() after select() can wait on output that has arrived.
    fd = proc.stdout.fileno()
    seen: list[str] = []
    pending = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        for line in (raw.decode("utf-8", "replace") for raw in lines):
            seen.append(line + "\n")
            if line.startswith("viewer token"):
                return {"viewer": line.split()[-1]}
    raise AssertionError("the demo printed no viewer token:\n" + "".join(seen))


def _get_json(url: str, token: str) -> object:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def _post_json(url: str, body: bytes) -> None:
    req = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=5):
        pass


async def test_the_demo_probes_the_whole_fleet_and_shows_an_injected_fault(
    demo: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    _, info = demo
    url = info["api"] + "/api/v1/endpoints"

    async def states() -> dict[str, str]:
        body = await asyncio.to_thread(_get_json, url, info["viewer"])
        return {e["id"]: e["state"] for e in body}  # type: ignore[attr-defined]

    async def all_up() -> dict[str, str] | None:
        now = await states()
        return now if set(now.values()) == {"up"} else None

    up = await wait_until(all_up, timeout=15, what="every demo endpoint up")
    assert len(up) == 61  # 56 agencies' portals + 5 platform APIs
    fault = b'{"endpoint": "ha-noi-portal", "mode": "down"}'
    await asyncio.to_thread(_post_json, info["fleet"] + "/_control/faults", fault)
    started = time.monotonic()

    async def ha_noi_down() -> bool:
        return (await states())["ha-noi-portal"] == "down"

    await wait_until(ha_noi_down, timeout=5, what="ha-noi-portal down")
    assert time.monotonic() - started <= 2 * 1.0 + 1.0


async def test_serve_probes_the_configured_fleet_and_stops_cleanly_on_sigint(
    db_url: str, tmp_path: Path
) -> None:
    agencies = [a for a in load_agencies() if a.kind == "platform"]
    async with FleetSimulator(agencies, latency_scale=0.0) as fleet:
        config = tmp_path / "fleet.yaml"
        config.write_text(
            fleet_config_yaml(
                fleet.endpoints(),
                agencies,
                interval="1s",
                timeout="1s",
                viewer_token="viewer-token-0123456789",
                operator_token="operator-token-0123456789",
                admin_token="admin-token-0123456789ab",
            ),
            encoding="utf-8",
        )
        port = free_port()
        proc = await asyncio.create_subprocess_exec(
            *CLI,
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            env={**os.environ, "MONITOR_DATABASE_URL": db_url},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            url = f"http://127.0.0.1:{port}/api/v1/endpoints"

            async def all_up() -> bool:
                try:
                    body = await asyncio.to_thread(_get_json, url, "viewer-token-0123456789")
                except OSError:
                    return False
                return {e["state"] for e in body} == {"up"}  # type: ignore[attr-defined]

            await wait_until(all_up, timeout=20, what="serve to report every endpoint up")
            await _sighup_reloads_and_refuses_a_bad_file(proc, config, url)
        finally:
            proc.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, stderr.decode()
        assert "Traceback" not in stderr.decode()


async def _sighup_reloads_and_refuses_a_bad_file(
    proc: asyncio.subprocess.Process, config: Path, url: str
) -> None:
    text = config.read_text(encoding="utf-8")
    start = text.index("- id: ecabinet-api") if "- id: ecabinet-api" in text else -1
    assert start > 0, "the generated config has an ecabinet-api endpoint"
    end = text.index("- id:", start + 1)
    config.write_text(text[:start] + text[end:], encoding="utf-8")
    proc.send_signal(signal.SIGHUP)

    async def ecabinet_api_gone() -> bool:
        body = await asyncio.to_thread(_get_json, url, "viewer-token-0123456789")
        return "ecabinet-api" not in {e["id"] for e in body}  # type: ignore[attr-defined]

    await wait_until(ecabinet_api_gone, timeout=10, what="SIGHUP to drop ecabinet-api")
    config.write_text("agencies: [{id: Not A Slug}]\n", encoding="utf-8")
    proc.send_signal(signal.SIGHUP)
    assert proc.stderr is not None

    async def refused() -> bool:
        line = await proc.stderr.readline()  # type: ignore[union-attr]
        return b"config reload refused" in line

    await wait_until(refused, timeout=10, what="the bad reload to be refused", poll=0)
    body = await asyncio.to_thread(_get_json, url, "viewer-token-0123456789")
    assert len(body) == 9  # type: ignore[arg-type]  # 5 portals + 4 remaining platform APIs
