"""``monitor-center tail`` against a running center: the snapshot summary, an endpoint
going down, reconnecting and resuming after the server restarts, a refused token, and
the command itself as a subprocess."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr
from rich.console import Console
from typer.testing import CliRunner

from monitor_center.cli import app
from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from monitor_center.tail import TailOptions, live_url, snapshot_summary, tail
from tests.running import Backend, free_port, loopback_backend
from tests.waiting import wait_until

VIEWER = "tail-viewer-token-0123456789"


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    async with loopback_backend() as state:
        yield state


@dataclass
class Center:
    """A started center whose API can be stopped and started again on the same port."""

    service: Service
    backend: Backend
    port: int
    server: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def listen(self) -> None:
        self.server = asyncio.create_task(self.service.serve("127.0.0.1", self.port))

        async def listening() -> bool:
            return self.service.serving

        await wait_until(listening, timeout=10, what="the API to listen")

    async def shut(self) -> None:
        self.service.stop_serving()
        if self.server is not None:
            await self.server
            self.server = None


@pytest.fixture
async def center(db_url: str, backend: Backend) -> AsyncIterator[Center]:
    text = f"""
auth:
  tokens:
    - {{name: wall, token: {VIEWER}, role: viewer}}
agencies:
  - {{id: ha-noi, name: "Hà Nội", kind: province}}
endpoints:
  - {{id: ha-noi-portal, agency: ha-noi, url: "{backend.url}/ha-noi", interval: 1s}}
"""
    config = parse_config_text(text, filename="tail.yaml", env={})
    service = Service(Settings(database_url=SecretStr(db_url)), config)
    await service.start()
    running = Center(service, backend, free_port())
    try:
        await running.listen()

        async def up() -> bool:
            view = service.states.view("ha-noi-portal")
            return view is not None and view.state == "up"

        await wait_until(up, timeout=10, what="ha-noi-portal up")
        yield running
    finally:
        await running.shut()
        await service.stop()


@dataclass
class Tail:
    """``tail`` running in-process, writing plain text to a buffer."""

    out: io.StringIO
    task: asyncio.Task[int]

    async def shows(self, *parts: str, after: int = 0) -> str:
        """The first line (from character ``after`` on) that holds every one of ``parts``."""

        async def line() -> str | None:
            lines = self.out.getvalue()[after:].splitlines()
            return next((x for x in lines if all(p in x for p in parts)), None)

        found: str = await wait_until(line, timeout=10, what=f"a line with {parts}")
        return found


@pytest.fixture
async def following(center: Center) -> AsyncIterator[Tail]:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    options = TailOptions(url=center.url, token=VIEWER, retry_initial=0.2, retry_max=0.5)
    task = asyncio.create_task(tail(options, console))
    try:
        yield Tail(out, task)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_tail_shows_the_snapshot_and_an_endpoint_going_down(
    center: Center, following: Tail
) -> None:
    await following.shows("snapshot", "1 endpoint: 1 up, 0 down, 0 unknown; 0 alerts firing")
    center.backend.failing.add("ha-noi")
    line = await following.shows("endpoint", "ha-noi-portal", "up -> down")
    assert "status 503" in line


async def test_tail_reconnects_after_a_restart_and_resumes_where_it_was(
    center: Center, following: Tail
) -> None:
    await following.shows("snapshot")
    await center.shut()
    await following.shows("feed lost", "reconnecting")
    center.backend.failing.add("ha-noi")  # while the API is down: the hub keeps it
    await asyncio.sleep(0.5)
    await center.listen()
    await following.shows("connected", "resuming after seq")
    await following.shows("ha-noi-portal", "up -> down")
    # Resumed with since: the missed delta was replayed, no second snapshot.
    assert following.out.getvalue().count("snapshot") == 1


async def test_a_refused_token_is_said_plainly_and_ends_tail(center: Center) -> None:
    out = io.StringIO()
    options = TailOptions(url=center.url, token="not-a-token-0123456789")
    status = await tail(options, Console(file=out, width=200, color_system=None))
    assert status == 1
    assert "token refused (HTTP 403)" in out.getvalue()
    assert "not-a-token" not in out.getvalue()


async def test_a_center_that_is_not_there_is_retried_with_a_clear_line() -> None:
    out = io.StringIO()
    options = TailOptions(url=f"http://127.0.0.1:{free_port()}", token=VIEWER, retry_max=0.2)
    task = asyncio.create_task(tail(options, Console(file=out, width=200, color_system=None)))
    following = Tail(out, task)
    first = await following.shows("feed lost", "connection refused", "reconnecting")
    await following.shows("feed lost", after=out.getvalue().index(first) + len(first))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_command_follows_the_feed_with_the_token_from_the_environment(
    center: Center,
) -> None:
    env = os.environ | {"MONITOR_TOKEN": VIEWER, "COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor_center.cli", "tail", "--url", center.url,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any("alerts firing" in line for line in lines):
            raw = await asyncio.wait_for(process.stdout.readline(), 20)
            assert raw, f"tail ended: {lines}"
            lines.append(raw.decode())
    finally:
        process.terminate()
        await process.wait()
    assert any("1 endpoint: 1 up" in line for line in lines)


def test_the_command_wants_a_token_and_an_http_url() -> None:
    runner = CliRunner()
    no_token = runner.invoke(app, ["tail"], env={"MONITOR_TOKEN": ""})
    assert no_token.exit_code == 2
    assert "MONITOR_TOKEN" in no_token.output
    bad_url = runner.invoke(app, ["tail", "--url", "ftp://x", "--token", "t"])
    assert bad_url.exit_code == 2


def test_the_snapshot_summary_and_the_feed_url() -> None:
    snapshot = {
        "endpoints": [{"state": "up"}] * 58 + [{"state": "down"}] * 2 + [{"state": "unknown"}],
        "alerts": [{"state": "firing"}] * 3 + [{"state": "pending"}],
    }
    assert snapshot_summary(snapshot) == "61 endpoints: 58 up, 2 down, 1 unknown; 3 alerts firing"
    assert live_url("https://center.gov.vn/mc/", "t k", 42) == (
        "wss://center.gov.vn/mc/ws/live?token=t+k&since=42"
    )
    with pytest.raises(ValueError, match="URL"):
        live_url("center.gov.vn", "t", None)
