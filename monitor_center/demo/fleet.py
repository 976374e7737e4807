"""A simulated national fleet: every agency's portal, and the platforms' APIs, served by
one aiohttp server on loopback, with realistic latency and faults injected on demand.

Routes::

    GET /a/{agency_id}/             portal page (HTML, contains the agency's name)
    GET /a/{agency_id}/api/health   platforms only: {"status": "ok", ...}
    GET /telemetry/{agency_id}.json platforms' figures: transactions, KPIs (telemetry_server)
    GET /metrics                    ministries' and provinces' figures, Prometheus text
    GET /_control/endpoints         every endpoint served
    GET|POST|DELETE /_control/faults  list, set, clear faults (endpoints and counters)

Everything a request needs is prepared at construction, so the request path is a dict
lookup, an optional sleep and a write: the probe benchmarks push thousands of requests
per second through it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict
from types import TracebackType
from typing import Any

from aiohttp import web

from monitor_center.demo.agencies import AgencyInfo
from monitor_center.demo.catalog import SimSeries
from monitor_center.demo.faults import (
    ENDPOINT_MODES,
    Fault,
    FaultError,
    UnknownEndpointError,
    parse_fault_request,
)
from monitor_center.demo.pages import down_body
from monitor_center.demo.routes import Route, SimEndpoint, build_routes
from monitor_center.demo.telemetry_server import FleetTelemetry

__all__ = ["FleetSimulator", "SimEndpoint", "SimSeries"]

# Backstop for requests still sleeping through normal latency when the fleet stops;
# hung and slowed requests are cancelled outright (see ``stop``).
_SHUTDOWN_TIMEOUT = 0.5


class FleetSimulator:
    """All agencies' portals on one local HTTP server, with injectable faults.

    Use as ``async with FleetSimulator(load_agencies()) as sim:`` or call ``start`` and
    ``stop``. ``latency_scale`` multiplies every simulated latency (0 answers at once).
    The same ``seed`` always gives the same latencies and telemetry; ``clock`` (epoch
    seconds) is what the telemetry is computed for.
    """

    def __init__(
        self,
        agencies: list[AgencyInfo],
        *,
        seed: int = 0,
        latency_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if latency_scale < 0:
            raise ValueError("latency_scale must not be negative")
        self.telemetry = FleetTelemetry(agencies, seed, clock)
        self._routes = build_routes(agencies, seed, latency_scale)
        self._by_path = {route.path: route for route in self._routes.values()}
        self._faults: dict[str, Fault] = {}
        # Handler tasks parked by a hang or slow fault; cancelled on stop so it is prompt.
        self._stalled: set[asyncio.Task[Any]] = set()
        self._stall_waiters: list[asyncio.Future[None]] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0 picks a free one; see ``base_url``)."""
        if self._runner is not None:
            raise RuntimeError("fleet simulator is already running")
        runner = web.AppRunner(
            self._make_app(),
            access_log=None,
            # A probe that gives up closes its connection; cancelling the handler then
            # keeps hung requests from piling up during long benchmark runs.
            handler_cancellation=True,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        bound_port = runner.addresses[0][1]
        shown_host = f"[{host}]" if ":" in host else host
        self._runner = runner
        self._base_url = f"http://{shown_host}:{bound_port}"

    async def stop(self) -> None:
        """Stop serving; requests held by a hang or slow fault are cut off at once."""
        runner, self._runner, self._base_url = self._runner, None, None
        if runner is None:
            return
        for task in list(self._stalled):
            task.cancel()
        await runner.cleanup()

    async def __aenter__(self) -> FleetSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Where the fleet listens, e.g. ``http://127.0.0.1:54321`` (only while running)."""
        if self._base_url is None:
            raise RuntimeError("fleet simulator is not running")
        return self._base_url

    def endpoints(self, base_url: str | None = None) -> list[SimEndpoint]:
        """Every endpoint served, with absolute URLs.

        ``base_url`` overrides where clients reach the fleet (for example a container
        name); by default it is the address the fleet listens on.
        """
        root = (base_url or self.base_url).rstrip("/")
        return [
            SimEndpoint(
                id=route.endpoint_id,
                agency_id=route.agency_id,
                url=root + route.path,
                kind=route.kind,
                json_path=route.json_path,
                equals=route.equals,
                body_contains=route.body_contains,
            )
            for route in self._routes.values()
        ]

    def series(self, base_url: str | None = None) -> list[SimSeries]:
        """Every series the fleet publishes (transactions, KPIs), with absolute URLs."""
        return self.telemetry.series(base_url or self.base_url)

    def base_latency(self, endpoint_id: str) -> float:
        """The endpoint's median latency in seconds, before ``latency_scale``."""
        return self._route(endpoint_id).latency.base

    def set_fault(self, endpoint_id: str, fault: Fault) -> None:
        """Make an endpoint (or a counter series) misbehave; mode ``ok`` clears it.

        Raises ``FaultError`` for a mode the target does not take (``volume_drop`` is for
        counters, the others for endpoints).
        """
        if endpoint_id in self.telemetry:
            self.telemetry.set_fault(endpoint_id, fault)
            return
        self._route(endpoint_id)
        if fault.mode not in ENDPOINT_MODES:
            modes = ", ".join(ENDPOINT_MODES)
            raise FaultError(f"an endpoint takes the modes {modes}, not {fault.mode!r}")
        if fault.mode == "ok":
            self._faults.pop(endpoint_id, None)
        else:
            self._faults[endpoint_id] = fault

    def clear_faults(self) -> int:
        """Clear every fault; returns how many were active."""
        count = len(self._faults)
        self._faults.clear()
        return count + self.telemetry.clear_faults()

    @property
    def faults(self) -> dict[str, Fault]:
        """The active faults by endpoint (or series) id (a copy)."""
        return {**self._faults, **self.telemetry.faults}

    @property
    def stalled_requests(self) -> int:
        """Requests currently held back by a ``hang`` or ``slow`` fault."""
        return len(self._stalled)

    async def wait_stalled(self, count: int) -> None:
        """Return once exactly ``count`` requests are held by ``hang``/``slow`` faults.

        A synchronisation point for tests and demos ("the probe is now hanging");
        wrap it in ``asyncio.timeout`` to bound the wait.
        """
        while len(self._stalled) != count:
            waiter = asyncio.get_running_loop().create_future()
            self._stall_waiters.append(waiter)
            await waiter

    def _stall_changed(self) -> None:
        waiters, self._stall_waiters = self._stall_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _route(self, endpoint_id: str) -> Route:
        try:
            return self._routes[endpoint_id]
        except KeyError:
            raise UnknownEndpointError(endpoint_id) from None

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/_control/endpoints", self._get_endpoints)
        app.router.add_get("/_control/faults", self._get_faults)
        app.router.add_post("/_control/faults", self._post_fault)
        app.router.add_delete("/_control/faults", self._delete_faults)
        # One catch-all route and a dict lookup beat one aiohttp route per endpoint.
        app.router.add_get("/a/{tail:.*}", self._serve)
        self.telemetry.add_routes(app)
        return app

    async def _serve(self, request: web.Request) -> web.Response:
        route = self._by_path.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found\n")
        fault = self._faults.get(route.endpoint_id)
        delay = route.latency.next()
        if fault is None:
            if delay > 0:
                await asyncio.sleep(delay)
            return _answer(200, route.content_type, route.healthy)
        if fault.mode == "hang":
            await self._stall(None)  # returns only by cancellation: client gone or stop()
        if fault.mode == "slow":
            await self._stall(delay + fault.delay)
            return _answer(200, route.content_type, route.healthy)
        if delay > 0:
            await asyncio.sleep(delay)
        if fault.mode == "down":
            return _answer(fault.status, "text/plain; charset=utf-8", down_body(fault.status))
        return _answer(200, route.content_type, route.wrong)

    async def _stall(self, seconds: float | None) -> None:
        """Hold the request for ``seconds`` (forever when ``None``) where stop can cut it."""
        task = asyncio.current_task()
        if task is not None:
            self._stalled.add(task)
            self._stall_changed()
        try:
            if seconds is None:
                await asyncio.get_running_loop().create_future()
            else:
                await asyncio.sleep(seconds)
        finally:
            if task is not None:
                self._stalled.discard(task)
                self._stall_changed()

    async def _get_endpoints(self, request: web.Request) -> web.Response:
        root = f"{request.scheme}://{request.host}"
        listed = [
            {**asdict(endpoint), "base_latency_ms": round(self.base_latency(endpoint.id) * 1000, 1)}
            for endpoint in self.endpoints(root)
        ]
        return web.json_response({"endpoints": listed})

    async def _get_faults(self, request: web.Request) -> web.Response:
        listed = [{"endpoint": eid, **fault.as_dict()} for eid, fault in self.faults.items()]
        return web.json_response({"faults": listed})

    async def _post_fault(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:  # JSONDecodeError and UnicodeDecodeError both
            return _error(400, "body must be valid JSON")
        try:
            endpoint_id, fault = parse_fault_request(body, _Targets(self))
            self.set_fault(endpoint_id, fault)
        except UnknownEndpointError as exc:
            return _error(404, str(exc))
        except FaultError as exc:
            return _error(400, str(exc))
        return web.json_response({"endpoint": endpoint_id, **fault.as_dict()})

    async def _delete_faults(self, request: web.Request) -> web.Response:
        return web.json_response({"cleared": self.clear_faults()})


class _Targets:
    """What a fault may name: the fleet's endpoints and its series."""

    def __init__(self, fleet: FleetSimulator) -> None:
        self._fleet = fleet

    def __contains__(self, target: object) -> bool:
        return target in self._fleet._routes or target in self._fleet.telemetry


def _answer(status: int, content_type: str, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, headers={"Content-Type": content_type})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
