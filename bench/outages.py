"""Outages on loopback endpoints, injected and timed the same way for the center and for
its reference (Prometheus + blackbox_exporter + Alertmanager).

``Loopback`` serves the monitored endpoints (200, or 503 while failing) and the webhook
receiver; ``one_outage`` takes one endpoint down at a seeded phase after one of its
probes, waits for the firing notification and the firing event on a feed, brings the
endpoint back at another phase and waits for the resolved notification. Every arrival is
stamped with ``time.monotonic()`` as it comes and waited on, never polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from alerts.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

SECRET = "bench-webhook-secret-0123456789"

Message = dict[str, Any]
Phases = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One outage, in seconds from its flip; ``inf`` for what never came.

    ``*_probe`` is when the probe that decided it reached the endpoint (the
    ``failures``-th failed one, the first good one), so ``event - probe`` is the
    monitor's own share: state, rule, outbox or grouping, HTTP or websocket.
    """

    fire_webhook: float
    fire_feed: float
    fire_probe: float
    resolved_webhook: float
    resolved_probe: float


class Arrivals:
    """Things that arrived, each with its ``time.monotonic()``; waited on, never polled."""

    def __init__(self) -> None:
        self._items: list[tuple[float, Message]] = []
        self._changed = asyncio.Condition()

    async def add(self, item: Message) -> None:
        async with self._changed:
            self._items.append((time.monotonic(), item))
            self._changed.notify_all()

    def nth_after(self, since: float, wanted: Callable[[Message], bool], n: int) -> float:
        """When the ``n``-th wanted item at or after ``since`` came (``inf``: not yet)."""
        times = [t for t, m in self._items if t >= since and wanted(m)]
        return times[n - 1] if len(times) >= n else math.inf

    async def first_after(
        self, since: float, wanted: Callable[[Message], bool], timeout: float
    ) -> float:
        """When the first wanted item at or after ``since`` came; ``inf`` after ``timeout``."""

        def found() -> float | None:
            return next((t for t, m in self._items if t >= since and wanted(m)), None)

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: found() is not None)
        except TimeoutError:
            return math.inf
        result = found()
        return math.inf if result is None else result


@dataclass(slots=True)
class Loopback:
    """The monitored endpoints (200, or 503 while failing) and the webhook receiver."""

    failing: set[str] = field(default_factory=set)
    probes: Arrivals = field(default_factory=Arrivals)
    hook: Arrivals = field(default_factory=Arrivals)
    rejected: int = 0
    signed: bool = True  # False for Alertmanager's posts, which carry no signature

    async def endpoint(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        # Decided before it is recorded: a probe timed after a flip has seen the flip.
        status = 503 if name in self.failing else 200
        await self.probes.add({"endpoint": name})
        return web.Response(status=status, text=name)

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        signature = request.headers.get(SIGNATURE_HEADER)
        verified = verify_signature(SECRET, timestamp, body, signature, now=time.time())
        if self.signed and not verified:
            self.rejected += 1  # counted and reported: a figure from unsigned posts is void
            return web.Response(status=401)
        for alert in json.loads(body)["alerts"]:
            await self.hook.add(alert)
        return web.Response(text="ok")


@contextlib.asynccontextmanager
async def loopback_server(
    loopback: Loopback, extra: Sequence[web.RouteDef] = ()
) -> AsyncIterator[str]:
    """Serve ``loopback`` (and the ``extra`` routes) on a free 127.0.0.1 port; yield its
    base URL."""
    app = web.Application()
    app.router.add_get("/e/{name}", loopback.endpoint)
    app.router.add_post("/hook", loopback.webhook)
    app.router.add_routes(extra)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _probe_of(endpoint: str) -> Callable[[Message], bool]:
    def wanted(probe: Message) -> bool:
        return bool(probe.get("endpoint") == endpoint)

    return wanted


def _hook_alert(status: str, subject: str) -> Callable[[Message], bool]:
    def wanted(alert: Message) -> bool:
        labels = alert.get("labels", {})
        return bool(alert.get("status") == status and labels.get("subject") == subject)

    return wanted


def _feed_alert(state: str, subject: str) -> Callable[[Message], bool]:
    def wanted(message: Message) -> bool:
        return bool(
            message.get("type") == "alert"
            and message.get("state") == state
            and message.get("subject") == subject
        )

    return wanted


def stratified_phases(rng: random.Random, runs: int, interval: float) -> list[float]:
    """One random phase in each of ``runs`` equal slices of the interval, shuffled.

    Independent draws can all land late in the interval, where detection is quickest
    (3 runs did in a trial); one per slice always tries a flip just after a probe too.
    """
    phases = [(k + rng.random()) * interval / runs for k in range(runs)]
    rng.shuffle(phases)
    return phases


async def _flip_after_probe(
    loopback: Loopback, endpoint: str, phase: float, *, down: bool
) -> float:
    """Wait for a probe of ``endpoint``, then ``phase`` seconds, then flip it.

    Returns the flip's ``time.monotonic()``.
    """
    await loopback.probes.first_after(time.monotonic(), _probe_of(endpoint), 60.0)
    await asyncio.sleep(phase)  # the phase itself, not a wait for a state
    if down:
        loopback.failing.add(endpoint)
    else:
        loopback.failing.discard(endpoint)
    return time.monotonic()


async def one_outage(
    loopback: Loopback,
    feed: Arrivals,
    endpoint: str,
    failures: int,
    phases: Phases,
    wait: float,
    feed_name: str = "feed",
) -> Outcome:
    """Take ``endpoint`` down and bring it back, each at the given phase after a probe;
    ``wait`` bounds the wait for each event."""
    down = await _flip_after_probe(loopback, endpoint, phases[0], down=True)
    hook = await loopback.hook.first_after(down, _hook_alert("firing", endpoint), wait)
    live = await feed.first_after(down, _feed_alert("firing", endpoint), wait)
    deciding = loopback.probes.nth_after(down, _probe_of(endpoint), failures)
    up = await _flip_after_probe(loopback, endpoint, phases[1], down=False)
    resolved = await loopback.hook.first_after(up, _hook_alert("resolved", endpoint), wait)
    good = loopback.probes.nth_after(up, _probe_of(endpoint), 1)
    outcome = Outcome(hook - down, live - down, deciding - down, resolved - up, good - up)
    print(
        f"  {endpoint}: outage -> webhook {outcome.fire_webhook:.2f} s,"
        f" {feed_name} {outcome.fire_feed:.2f} s (deciding probe at {outcome.fire_probe:.2f} s);"
        f" recovery -> resolved {outcome.resolved_webhook:.2f} s"
        f" (good probe at {outcome.resolved_probe:.2f} s)"
    )
    return outcome


def phase_pairs(rng: random.Random, runs: int, interval: float) -> list[Phases]:
    """(outage, recovery) phases for ``runs`` outages, stratified each (see above)."""
    downs = stratified_phases(rng, runs, interval)
    ups = stratified_phases(rng, runs, interval)
    return list(zip(downs, ups, strict=True))
