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
import random
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import SecretStr
from websockets.asyncio.client import connect

from bench import detection_reference
from bench.outages import (
    SECRET,
    Arrivals,
    Loopback,
    Outcome,
    loopback_server,
    one_outage,
    phase_pairs,
)
from bench.scratch import scratch_database
from bench.table import Row
from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings

TOKEN = "bench-viewer-token-0123456789"
_scratch_database = scratch_database  # bench/fanout.py imports it from here
RULE = "endpoint-down"
# Fall-backs, used only when Prometheus, Alertmanager or blackbox_exporter is missing:
# PRODUCT.md's figures, measured on the development machine at a 10 s interval.
PUBLISHED_NAME = "Prometheus+blackbox+AM, PRODUCT.md (tools missing)"
PUBLISHED_INTERVAL = 10.0
PUBLISHED_FIRE = 41.0
PUBLISHED_RESOLVED = 300.0


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


async def _measure(scenario: Scenario, rng: random.Random) -> list[Outcome]:
    """Run ``scenario`` against a fresh service and database."""
    loopback = Loopback()
    phases = phase_pairs(rng, scenario.runs, scenario.interval)
    with scratch_database() as url:
        async with loopback_server(loopback) as base:
            config = parse_config_text(_config_text(scenario, base), filename="bench", env={})
            settings = Settings(database_url=SecretStr(url), rule_eval_interval=1)
            async with _serving(Service(settings, config)) as api, _live_feed(api) as feed:
                outcomes = [
                    await one_outage(
                        loopback,
                        feed,
                        scenario.endpoint(run),
                        scenario.failures,
                        phases[run],
                        scenario.deadline,
                    )
                    for run in range(scenario.runs)
                ]
    if loopback.rejected:
        raise RuntimeError(f"{loopback.rejected} webhook posts had a bad signature")
    return outcomes


@dataclass(frozen=True, slots=True)
class Reference:
    """The reference's figures for one kind of event: worst of its runs, and its name."""

    value: float | None
    name: str
    runs: tuple[float, ...] = ()

    @classmethod
    def of(cls, measured: list[Outcome] | None, interval: float) -> dict[str, Reference]:
        """Webhook, feed and resolved references: measured, or PRODUCT.md's figures."""
        if measured is None:
            # Published at a 10 s interval; against another it means nothing.
            at_10s = interval == PUBLISHED_INTERVAL
            fire = cls(PUBLISHED_FIRE if at_10s else None, PUBLISHED_NAME)
            resolved = cls(PUBLISHED_RESOLVED if at_10s else None, PUBLISHED_NAME)
            return {"hook": fire, "feed": fire, "resolved": resolved}

        def worst(name: str, values: list[float]) -> Reference:
            return cls(max(values), f"{name}, same run, worst of {len(values)}", tuple(values))

        return {
            "hook": worst("Prometheus+blackbox+AM webhook", [o.fire_webhook for o in measured]),
            "feed": worst("Prometheus firing (before AM)", [o.fire_feed for o in measured]),
            "resolved": worst("Prometheus+blackbox+AM", [o.resolved_webhook for o in measured]),
        }


def _row(
    what: str, target: float, runs: list[tuple[float, float]], reference: Reference, setup: str
) -> Row:
    """``runs``: (event, deciding probe) per outage, in seconds from the flip."""
    events = [event for event, _ in runs]
    share = max(event - probe for event, probe in runs)
    each = ", ".join(f"{t:.1f}" for t in events)
    theirs = ", ".join(f"{t:.1f}" for t in reference.runs)
    return Row(
        "detection",
        "s",
        target,
        max(events),
        reference.value,
        reference.name,
        higher_is_better=False,
        note=f"{what}; {setup}; worst of {len(runs)} ({each}); <= {share:.2f} s after the"
        " probe" + (f"; reference runs {theirs}" if theirs else ""),
    )


def _rows(scenario: Scenario, outcomes: list[Outcome], refs: dict[str, Reference]) -> list[Row]:
    setup = f"every {scenario.interval:g}s, failures {scenario.failures}"
    if scenario.retry_interval is not None:
        # Prometheus has no fast re-probes: the reference is the same as without them.
        setup += f", retry_interval {scenario.retry_interval:g}s"
    fire, resolved = scenario.fire_target, scenario.resolve_target
    hook = [(o.fire_webhook, o.fire_probe) for o in outcomes]
    live = [(o.fire_feed, o.fire_probe) for o in outcomes]
    back = [(o.resolved_webhook, o.resolved_probe) for o in outcomes]
    return [
        _row("outage -> firing, webhook", fire, hook, refs["hook"], setup),
        _row("outage -> firing, live feed", fire, live, refs["feed"], setup),
        _row("recovery -> resolved, webhook", resolved, back, refs["resolved"], setup),
    ]


async def run(
    interval: float = 10.0,
    failures: int = 3,
    retry_interval: float = 1.0,
    runs: int = 3,
    seed: int = 7,
    reference: bool = True,
) -> list[Row]:
    """Measure both scenarios (without and with fast re-probes), ``runs`` outages each,
    and, at the same time unless ``reference`` is off, Prometheus + blackbox_exporter +
    Alertmanager on the same outages (the phases of the first scenario)."""
    rng = random.Random(seed)
    scenarios = [
        Scenario("plain", interval, failures, None, runs),
        Scenario("fast", interval, failures, retry_interval, runs),
    ]
    stop = threading.Event()
    phases = phase_pairs(random.Random(seed), runs, interval)
    theirs = asyncio.ensure_future(
        asyncio.to_thread(detection_reference.measure, interval, failures, phases, stop)
        if reference
        else asyncio.sleep(0, None)
    )
    ours: list[tuple[Scenario, list[Outcome]]] = []
    try:
        for scenario in scenarios:
            retry = (
                f", retry_interval {scenario.retry_interval:g}s" if scenario.retry_interval else ""
            )
            print(f"detection: {runs} outages, every {interval:g}s, failures {failures}{retry}")
            ours.append((scenario, await _measure(scenario, rng)))
        measured = await theirs
    finally:
        stop.set()  # the reference's thread stops within a second if it is still going
        with contextlib.suppress(BaseException):
            await theirs
    refs = Reference.of(measured, interval)
    return [row for scenario, outcomes in ours for row in _rows(scenario, outcomes, refs)]
