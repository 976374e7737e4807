"""`monitor-center dashboards push` against an imitation of Grafana's HTTP API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from monitor_center.dashboards import build_all
from tests.dashboards.fake_grafana import FakeGrafana

TOKEN = "glsa_test_token"
UIDS = [model["uid"] for model in build_all().values()]


@pytest.fixture
async def grafana() -> AsyncIterator[tuple[FakeGrafana, str]]:
    fake = FakeGrafana(TOKEN)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def _push(url: str, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    """The command as a subprocess; the token through GRAFANA_TOKEN, kept out of argv."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "monitor_center.cli", "dashboards", "push", "--url", url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GRAFANA_TOKEN": token},
        check=False,
    )


def _outcomes(stdout: str) -> dict[str, str]:
    pairs = (line.rsplit(": ", 1) for line in stdout.splitlines() if ": " in line)
    return {key: value for key, value in pairs if key in UIDS}


async def test_first_push_creates_folder_and_dashboards(grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    run = await _push(url, "--folder", "Giám sát")
    assert run.returncode == 0, run.stderr
    assert "folder 'Giám sát' (gi-m-s-t): created" in run.stdout
    assert _outcomes(run.stdout) == dict.fromkeys(UIDS, "created")
    assert fake.folders == {"gi-m-s-t": "Giám sát"}
    methods = [(method, path) for method, path, _ in fake.requests]
    assert methods[:2] == [("GET", "/api/folders"), ("POST", "/api/folders")]
    assert fake.requests[1][2] == {"title": "Giám sát", "uid": "gi-m-s-t"}
    for uid in UIDS:
        assert ("GET", f"/api/dashboards/uid/{uid}") in methods
    saves = [body for method, path, body in fake.requests if path == "/api/dashboards/db"]
    assert [body["dashboard"]["uid"] for body in saves] == UIDS
    for body in saves:
        assert body["overwrite"] is True
        assert body["folderUid"] == "gi-m-s-t"
        assert body["dashboard"]["id"] is None
        assert body["dashboard"]["panels"]


async def test_second_push_changes_nothing(grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    assert (await _push(url, "--token", TOKEN)).returncode == 0
    fake.requests.clear()
    run = await _push(url, "--token", TOKEN)
    assert run.returncode == 0, run.stderr
    assert "folder 'Monitor Center' (monitor-center): exists" in run.stdout
    assert _outcomes(run.stdout) == dict.fromkeys(UIDS, "unchanged")
    assert not [r for r in fake.requests if r[0] == "POST"]


async def test_edited_in_grafana_is_updated(grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    assert (await _push(url)).returncode == 0
    fake.dashboards[UIDS[1]]["dashboard"]["title"] = "edited by hand"
    run = await _push(url)
    assert run.returncode == 0, run.stderr
    expected = dict.fromkeys(UIDS, "unchanged") | {UIDS[1]: "updated"}
    assert _outcomes(run.stdout) == expected
    assert fake.dashboards[UIDS[1]]["dashboard"]["title"] == build_all()["agency-detail"]["title"]
    assert fake.dashboards[UIDS[1]]["dashboard"]["version"] == 2


async def test_another_folder_moves_them(grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    assert (await _push(url)).returncode == 0
    run = await _push(url, "--folder", "SLA")
    assert _outcomes(run.stdout) == dict.fromkeys(UIDS, "updated")
    assert {d["meta"]["folderUid"] for d in fake.dashboards.values()} == {"sla"}


async def test_wrong_token_is_refused(grafana: tuple[FakeGrafana, str]) -> None:
    fake, url = grafana
    run = await _push(url, token="wrong")
    assert run.returncode == 1
    assert "Grafana refused" in run.stderr
    assert "wrong" not in run.stdout + run.stderr  # the token is never echoed
    assert not fake.dashboards


async def test_unreachable_grafana_fails_cleanly() -> None:
    run = await _push("http://127.0.0.1:9")
    assert run.returncode == 1
    assert "Grafana refused" in run.stderr
    assert "Traceback" not in run.stderr
