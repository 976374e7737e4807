"""Detection: outage -> "firing" on the webhook and the live feed; recovery -> "resolved".

A real ``Service`` on a scratch database probes loopback endpoints that can be flipped to
503, sends its alerts to a loopback webhook receiver (signature checked) and publishes
them on ``/ws/live``, read by a websocket client. Each outage and each recovery is
flipped at a random (seeded) phase of the probe interval, one phase in each slice of it,
so flips that all land just before a probe cannot flatter the figure; the worst of the
runs is reported, with the center's own share (time after the deciding probe).

Each run takes down its own endpoint: the engine deliberately stops notifying about a
(rule, subject) that fires three times within ten minutes (flapping), and that is not
what is measured here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from aiohttp import web
from pydantic import SecretStr
from websockets.asyncio.client import connect

from alerts.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from bench.probes import ADMIN_URL
from bench.table import Row
from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings

TOKEN = "bench-viewer-token-0123456789"
SECRET = "bench-webhook-secret-0123456789"
RULE = "endpoint-down"
REFERENCE_NAME = "Prometheus+blackbox+AM (PRODUCT.md)"
# PRODUCT.md, measured on this machine at a 10 s interval (issue 7 re-measures it).
REFERENCE_INTERVAL = 10.0
REFERENCE_FIRE = 41.0
REFERENCE_RESOLVED = 300.0

Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Scenario:
    """One way of configuring the endpoint, measured ``runs`` times."""

    name: str
    interval: float
    failures: int
    retry_interval: float | None
    runs: int

    @property
    def fire_target(self) -> float:
        """PRODUCT.md's bound for outage -> firing."""
        if self.retry_interval is None:
            return self.failures * self.interval + 2.0
        return self.interval + self.failures * self.retry_interval + 1.0

    @property
    def resolve_target(self) -> float:
        """PRODUCT.md's bound for recovery -> resolved."""
        return self.interval + 2.0

    @property
    def deadline(self) -> float:
        """How long to wait for any one event before recording it as missed."""
        return 3 * self.failures * self.interval + 30.0

    def endpoint(self, run: int) -> str:
        return f"{self.name}-{run + 1}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One outage, in seconds from its flip; ``inf`` for what never came.

    ``*_probe`` is when the probe that decided it reached the endpoint (the
    ``failures``-th failed one, the first good one), so ``event - probe`` is the
    center's own share: state, rule, outbox, HTTP or websocket.
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
        if not verify_signature(SECRET, timestamp, body, signature, now=time.time()):
            self.rejected += 1  # counted and reported: a figure from unsigned posts is void
            return web.Response(status=401)
        for alert in json.loads(body)["alerts"]:
            await self.hook.add(alert)
        return web.Response(text="ok")


@contextlib.asynccontextmanager
async def _loopback_server(loopback: Loopback) -> AsyncIterator[str]:
    """Serve ``loopback`` on a free 127.0.0.1 port; yield its base URL."""
    app = web.Application()
    app.router.add_get("/e/{name}", loopback.endpoint)
    app.router.add_post("/hook", loopback.webhook)
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


def _config_text(scenario: Scenario, base: str) -> str:
    # A 503 answers at once; the timeout only has to fit inside the interval.
    timing = f"interval: {scenario.interval:g}s, timeout: {min(2.0, scenario.interval):g}s"
    if scenario.retry_interval:
        timing += f", retry_interval: {scenario.retry_interval:g}s"
    endpoints = "".join(
        f'  - {{id: {name}, agency: bench, url: "{base}/e/{name}", {timing}}}\n'
        for name in map(scenario.endpoint, range(scenario.runs))
    )
    return f"""
auth:
  tokens: [{{name: bench, token: {TOKEN}, role: viewer}}]
agencies: [{{id: bench, name: "Nền tảng đo", kind: platform}}]
endpoints:
{endpoints}
rules:
  - {{id: {RULE}, kind: endpoint_down, severity: critical, failures: {scenario.failures}}}
channels:
  - {{id: bench-hook, kind: webhook, url: "{base}/hook", secret: "{SECRET}"}}
routes:
  - {{channels: [bench-hook]}}
"""


@contextlib.contextmanager
def _scratch_database() -> Iterator[str]:
    """A new empty database on the bench cluster, dropped afterwards."""
    dbname = f"mc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {dbname}")
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


@contextlib.asynccontextmanager
async def _serving(service: Service) -> AsyncIterator[str]:
    """Start ``service`` with its API on a free port; yield the base URL."""
    await service.start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = asyncio.create_task(service.serve("127.0.0.1", port))
    try:
        # uvicorn exposes a "started" flag, not an event, hence the polling.
        while not service.serving:
            if server.done():
                server.result()  # raises what kept the API from listening
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        service.stop_serving()
        await server
        await service.stop()


@contextlib.asynccontextmanager
async def _live_feed(base: str) -> AsyncIterator[Arrivals]:
    """Every ``/ws/live`` message, as it arrives, for as long as the block runs."""
    feed = Arrivals()
    url = base.replace("http", "ws", 1) + f"/ws/live?token={TOKEN}"
    async with connect(url, proxy=None, open_timeout=10) as ws:

        async def pump() -> None:
            async for frame in ws:
                await feed.add(json.loads(frame))

        reader = asyncio.create_task(pump())
        try:
            yield feed
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


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


async def _one_outage(
    loopback: Loopback, feed: Arrivals, scenario: Scenario, run: int, phases: tuple[float, float]
) -> Outcome:
    """Take one endpoint down and bring it back, each at the given phase."""
    endpoint, wait = scenario.endpoint(run), scenario.deadline
    down = await _flip_after_probe(loopback, endpoint, phases[0], down=True)
    hook = await loopback.hook.first_after(down, _hook_alert("firing", endpoint), wait)
    live = await feed.first_after(down, _feed_alert("firing", endpoint), wait)
    deciding = loopback.probes.nth_after(down, _probe_of(endpoint), scenario.failures)
    up = await _flip_after_probe(loopback, endpoint, phases[1], down=False)
    resolved = await loopback.hook.first_after(up, _hook_alert("resolved", endpoint), wait)
    good = loopback.probes.nth_after(up, _probe_of(endpoint), 1)
    outcome = Outcome(hook - down, live - down, deciding - down, resolved - up, good - up)
    print(
        f"  {endpoint}: outage -> webhook {outcome.fire_webhook:.2f} s,"
        f" feed {outcome.fire_feed:.2f} s (deciding probe at {outcome.fire_probe:.2f} s);"
        f" recovery -> resolved {outcome.resolved_webhook:.2f} s"
        f" (good probe at {outcome.resolved_probe:.2f} s)"
    )
    return outcome


async def _measure(scenario: Scenario, rng: random.Random) -> list[Outcome]:
    """Run ``scenario`` against a fresh service and database."""
    loopback = Loopback()
    phases = list(
        zip(
            stratified_phases(rng, scenario.runs, scenario.interval),
            stratified_phases(rng, scenario.runs, scenario.interval),
            strict=True,
        )
    )
    with _scratch_database() as url:
        async with _loopback_server(loopback) as base:
            config = parse_config_text(_config_text(scenario, base), filename="bench", env={})
            settings = Settings(database_url=SecretStr(url), rule_eval_interval=1)
            async with _serving(Service(settings, config)) as api, _live_feed(api) as feed:
                outcomes = [
                    await _one_outage(loopback, feed, scenario, run, phases[run])
                    for run in range(scenario.runs)
                ]
    if loopback.rejected:
        raise RuntimeError(f"{loopback.rejected} webhook posts had a bad signature")
    return outcomes


def _row(
    what: str, target: float, runs: list[tuple[float, float]], reference: float | None, setup: str
) -> Row:
    """``runs``: (event, deciding probe) per outage, in seconds from the flip."""
    events = [event for event, _ in runs]
    share = max(event - probe for event, probe in runs)
    each = ", ".join(f"{t:.1f}" for t in events)
    return Row(
        "detection",
        "s",
        target,
        max(events),
        reference,
        REFERENCE_NAME,
        higher_is_better=False,
        note=f"{what}; {setup}; worst of {len(runs)} ({each}); <= {share:.2f} s after the probe",
    )


def _rows(scenario: Scenario, outcomes: list[Outcome]) -> list[Row]:
    setup = f"every {scenario.interval:g}s, failures {scenario.failures}"
    if scenario.retry_interval is not None:
        setup += f", retry_interval {scenario.retry_interval:g}s"
    # The reference was measured at a 10 s interval; against another it means nothing.
    comparable = scenario.interval == REFERENCE_INTERVAL
    fire_ref = REFERENCE_FIRE if comparable else None
    resolved_ref = REFERENCE_RESOLVED if comparable else None
    fire, resolved = scenario.fire_target, scenario.resolve_target
    hook = [(o.fire_webhook, o.fire_probe) for o in outcomes]
    live = [(o.fire_feed, o.fire_probe) for o in outcomes]
    back = [(o.resolved_webhook, o.resolved_probe) for o in outcomes]
    return [
        _row("outage -> firing, webhook", fire, hook, fire_ref, setup),
        _row("outage -> firing, live feed", fire, live, fire_ref, setup),
        _row("recovery -> resolved, webhook", resolved, back, resolved_ref, setup),
    ]


async def run(
    interval: float = 10.0,
    failures: int = 3,
    retry_interval: float = 1.0,
    runs: int = 3,
    seed: int = 7,
) -> list[Row]:
    """Measure both scenarios (without and with fast re-probes), ``runs`` outages each."""
    rng = random.Random(seed)
    scenarios = [
        Scenario("plain", interval, failures, None, runs),
        Scenario("fast", interval, failures, retry_interval, runs),
    ]
    rows: list[Row] = []
    for scenario in scenarios:
        retry = f", retry_interval {scenario.retry_interval:g}s" if scenario.retry_interval else ""
        print(f"detection: {runs} outages, every {interval:g}s, failures {failures}{retry}")
        rows += _rows(scenario, await _measure(scenario, rng))
    return rows
