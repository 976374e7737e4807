"""The wall in a real browser: Debian's chromium driven through playwright, against the
whole demo fleet and a real center that the tests can stop and start on one port.

Chromium is a system package (``make browser`` installs it), never a playwright download:
it is launched with ``executable_path``. Without it the browser tests skip with the reason;
with ``CI=true`` they fail instead, as the TimescaleDB tests do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import yaml
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright
from pydantic import SecretStr

from monitor_center.config import Config, parse_config_text
from monitor_center.demo.agencies import AgencyInfo, load_agencies
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.fleet_config import fleet_config_yaml
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.conftest import IN_CI
from tests.running import free_port
from tests.waiting import wait_until

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
VIEWER = "wall-viewer-token-0123456789"
OPERATOR = "wall-operator-token-0123456789"
ADMIN = "wall-admin-token-0123456789abc"
INTERVAL = 1.0
FAILURES = 2
DETECTION_TARGET = FAILURES * INTERVAL + 2.0
"""The product's target: outage -> firing alert within ``failures x interval + 2 s``."""

# Records every Content-Security-Policy violation, whatever reports it to the console.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective}: ${event.blockedURI}`);
});
"""


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium; skip without it (fail when ``CI=true``)."""
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} is missing (`make browser` installs Debian's chromium)"
        if IN_CI:
            pytest.fail(f"CI=true and the browser tests cannot run: {why}")
        pytest.skip(why)
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium))
        try:
            yield launched
        finally:
            await launched.close()


def fleet_config(fleet: FleetSimulator, agencies: list[AgencyInfo]) -> Config:
    """The demo's config for ``fleet`` at a 1 s interval, with only the outage rule.

    The rules are set here rather than taken from the demo, so the detection target the
    tests assert on cannot drift with the demo's choice of rules.
    """
    text = fleet_config_yaml(
        fleet.endpoints(),
        agencies,
        interval=f"{INTERVAL:g}s",
        timeout="0.8s",
        viewer_token=VIEWER,
        operator_token=OPERATOR,
        admin_token=ADMIN,
    )
    document = yaml.safe_load(text)
    document["rules"] = [
        {
            "id": "endpoint-down",
            "kind": "endpoint_down",
            "severity": "critical",
            "failures": FAILURES,
        },
    ]
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return parse_config_text(text, filename="wall-fleet.yaml", env={})


@dataclass
class Center:
    """A center on a fixed port, which a test can stop and start again (same database)."""

    fleet: FleetSimulator
    agencies: list[AgencyInfo]
    config: Config
    db_url: str
    port: int = field(default_factory=free_port)
    service: Service | None = None
    _server: asyncio.Task[None] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> Service:
        assert self.service is not None, "the center is stopped"
        return self.service

    async def start(self) -> None:
        service = Service(Settings(database_url=SecretStr(self.db_url)), self.config)
        await service.start()
        self.service = service
        self._server = asyncio.create_task(service.serve("127.0.0.1", self.port))

        async def listening() -> bool:
            if self._server is not None and self._server.done():
                self._server.result()  # raises what kept the server from starting
            return service.serving

        await wait_until(listening, timeout=10, what="the API to listen")

    async def stop(self) -> None:
        """Stop serving and stop the service, as an operator's restart would."""
        service, server, self.service, self._server = self.service, self._server, None, None
        if service is None:
            return
        service.stop_serving()
        if server is not None:
            await server
        await service.stop()

    async def fault(self, endpoint_id: str, mode: str) -> None:
        """Inject a fault through the fleet's control API, as an operator would."""
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.fleet.base_url}/_control/faults",
                json={"endpoint": endpoint_id, "mode": mode},
            ) as response,
        ):
            assert response.status == 200, await response.text()


@pytest.fixture
async def center(db_url: str) -> AsyncIterator[Center]:
    """Every agency of the demo fleet (platforms, ministries, the 34 provinces), probed."""
    agencies = load_agencies()
    async with FleetSimulator(agencies, seed=11, latency_scale=0.5) as fleet:
        running = Center(fleet, agencies, fleet_config(fleet, agencies), db_url)
        await running.start()
        try:
            yield running
        finally:
            await running.stop()


@dataclass
class Wall:
    """A browser page on the wall, with every script error and CSP violation it saw."""

    page: Page
    center: Center
    errors: list[str] = field(default_factory=list)

    async def open(self, path: str = "/wall") -> None:
        await self.page.goto(self.center.base + path)

    async def problems(self) -> list[str]:
        """Script errors and CSP violations so far (the test asserts there are none)."""
        violations: list[str] = await self.page.evaluate("window.__cspViolations || []")
        return self.errors + [f"CSP violation {v}" for v in violations]

    async def tile_states(self) -> dict[str, str]:
        states: dict[str, str] = await self.page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('.tile')]"
            ".map((t) => [t.dataset.agency, t.dataset.state]))"
        )
        return states

    async def wait_all_up(self, timeout: float = 15) -> None:
        """Until every agency's tile is green."""
        expected = {a.id for a in self.center.agencies}

        async def all_up() -> bool:
            states = await self.tile_states()
            return set(states) == expected and set(states.values()) == {"up"}

        await wait_until(all_up, timeout=timeout, what="every tile green", poll=0.2)

    async def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        await self.page.screenshot(path=str(path), full_page=full_page)
        return path


# The browser itself logs a refused websocket (the center is down) and a 401 (a wrong
# token) as errors; those are scenarios under test, not faults of the page. CSP
# violations are caught by the listener above, script errors by "pageerror".
_EXPECTED_NOISE = ("WebSocket connection", "Failed to load resource")


def _is_problem(message: ConsoleMessage) -> bool:
    return message.type == "error" and not message.text.startswith(_EXPECTED_NOISE)


WallFactory = Callable[..., Awaitable[Wall]]


@pytest.fixture
async def open_wall(browser: Browser, center: Center) -> AsyncIterator[WallFactory]:
    """``await open_wall(width=, height=)``: a fresh browser context (no stored token)."""
    contexts = []

    async def make(width: int = 1920, height: int = 1080) -> Wall:
        context = await browser.new_context(
            viewport={"width": width, "height": height}, locale="vi-VN"
        )
        contexts.append(context)
        await context.add_init_script(_WATCH_CSP)
        page = await context.new_page()
        wall = Wall(page, center)
        page.on("pageerror", lambda error: wall.errors.append(f"page error: {error}"))
        page.on(
            "console",
            lambda m: wall.errors.append(f"console: {m.text}") if _is_problem(m) else None,
        )
        return wall

    try:
        yield make
    finally:
        for context in contexts:
            await context.close()
