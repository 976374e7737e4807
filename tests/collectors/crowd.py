"""Hundreds of hostile endpoints at once, next to a few healthy ones, through the real
scheduler and prober: used by ``test_hostile_crowd.py`` and ``bench/hostile.py``.

The hostile servers run in a child process (``python -m tests.collectors.crowd``), one
listening socket per kind, so that their own work (streaming endless bodies and headers
at loopback speed) is not charged to the collector's event loop: in production the
hostile servers are somewhere else. The healthy endpoints are served in the caller's
process, so anything that slows the collector's loop slows them too.

Every probe result is kept; :func:`slot_report` then matches each healthy result to its
endpoint's grid slot (``stable_offset`` + k x interval), so a slot with no probe, or a
probe started more than a given lateness after its slot, is found from the results
alone, with no timing assumptions in the test itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import resource
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry

from collectors.http import HttpProber, ProbeSpec
from core.clock import SystemClock
from core.results import ProbeResult
from monitor_center.metrics import Metrics
from monitor_center.scheduling import ProbeScheduler, Target, stable_offset
from tests.collectors.servers import (
    Handler,
    drip_feed_body,
    drip_feed_headers,
    gzip_bomb,
    never_answer,
    reset,
)
from tests.running import Backend, loopback_backend
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
INTERVAL = 1.0
TIMEOUT = 1.0  # the largest a 1 s interval allows (timeout <= interval)
_ZEROS = b"\0" * 65536


async def _read_request(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def endless_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """200 and a body of zeros that ends only when the client hangs up."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    while True:
        writer.write(_ZEROS)
        await writer.drain()


async def endless_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A status line, then header lines as fast as the client takes them, never a blank."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    lines = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"f" * 64) for i in range(512))
    while True:
        writer.write(lines)
        await writer.drain()


async def many_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A complete, valid-looking 200 with 5,000 headers before its two-byte body."""
    await _read_request(reader)
    head = b"".join(b"X-Header-%d: value\r\n" % i for i in range(5000))
    writer.write(b"HTTP/1.1 200 OK\r\n" + head + b"Content-Length: 2\r\n\r\nok")
    await writer.drain()
    await reader.read()


async def bomb(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A gzip bomb: 32 KiB on the wire, 32 MiB once decompressed."""
    await _read_request(reader)
    body = gzip_bomb()
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    writer.write(body)
    await writer.drain()
    await reader.read()


# kind -> (handler, the reason its probes end with). Any probe may also end in "timeout":
# on a busy machine the (niced) child may not get to misbehave before the deadline.
_TOO_BIG = "body too large (> 1048576 bytes)"
_TOO_MANY = "invalid response: Too many headers received"  # aiohttp stops at 128
HOSTILE: dict[str, tuple[Handler, str]] = {
    "drip-body": (drip_feed_body, "timeout"),
    "drip-headers": (drip_feed_headers, "timeout"),
    "endless-body": (endless_body, _TOO_BIG),
    "endless-headers": (endless_headers, _TOO_MANY),
    "many-headers": (many_headers, _TOO_MANY),
    "gzip-bomb": (bomb, _TOO_BIG),
    "never-answer": (never_answer, "timeout"),
    "reset": (reset, "connection reset"),
}


# --- the child process -------------------------------------------------------------------


async def _serve_hostile() -> None:
    """Listen once per kind, print ``{kind: url}`` as one JSON line, serve until stdin ends."""

    def connection(handler: Handler) -> Handler:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass  # the prober hung up, as it should
            except asyncio.CancelledError:
                pass  # our own exit; Python 3.11's start_server callback would log it
            finally:
                writer.close()

        return on_connect

    urls: dict[str, str] = {}
    servers = []
    for kind, (handler, _) in HOSTILE.items():
        # A deep backlog: hundreds of probes connect within the same second.
        server = await asyncio.start_server(connection(handler), "127.0.0.1", 0, backlog=4096)
        servers.append(server)
        urls[kind] = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    print(json.dumps(urls), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # the parent closes stdin to stop us


@asynccontextmanager
async def hostile_servers() -> AsyncIterator[dict[str, str]]:
    """Run the hostile servers in a child process; yields ``{kind: base URL}``."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.collectors.crowd",
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        line = await asyncio.wait_for(child.stdout.readline(), timeout=30)
        if not line:
            raise RuntimeError("the hostile servers' process exited before listening")
        yield json.loads(line)
    finally:
        child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), timeout=5)
        except TimeoutError:
            child.kill()
            await child.wait()


# --- running the crowd -------------------------------------------------------------------


@dataclass
class CrowdRun:
    """Every result of a crowd run, by endpoint, and what the run looked like."""

    healthy: list[str]
    hostile: dict[str, str]  # endpoint id -> kind
    results: dict[str, list[ProbeResult]] = field(default_factory=dict)
    latest_start: dict[str, float] = field(default_factory=dict)  # POSIX seconds
    window: tuple[float, float] = (0.0, 0.0)  # POSIX seconds: the measured stretch
    skipped: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0

    def record(self, result: ProbeResult) -> None:
        self.results.setdefault(result.endpoint_id, []).append(result)
        began = result.time.timestamp()
        self.latest_start[result.endpoint_id] = max(
            began, self.latest_start.get(result.endpoint_id, began)
        )


@dataclass
class SlotReport:
    """Healthy probes against their grid slots in the measured window.

    A probe belongs to the latest slot at or before its start, so a probe started more
    than one interval late leaves its own slot in ``missing``.
    """

    slots: int = 0  # slots in the window, over every healthy endpoint
    # (endpoint, slot time) that no probe started in
    missing: list[tuple[str, float]] = field(default_factory=list)
    # (endpoint, seconds from slot to answer) past max_late
    slow: list[tuple[str, float]] = field(default_factory=list)
    down: list[ProbeResult] = field(default_factory=list)  # healthy probes that failed
    started_late: list[float] = field(default_factory=list)  # slot to start, per probe
    answered_late: list[float] = field(default_factory=list)  # slot to answer, per probe


def slot_report(run: CrowdRun, max_late: float) -> SlotReport:
    """Match every healthy result in the window to its endpoint's grid slot."""
    start, end = run.window
    report = SlotReport()
    for endpoint_id in run.healthy:
        offset = stable_offset(endpoint_id, INTERVAL)
        first = math.ceil((start - offset) / INTERVAL)
        last = math.floor((end - offset) / INTERVAL)
        report.slots += last - first + 1
        probed: set[int] = set()
        for result in run.results.get(endpoint_id, []):
            began = result.time.timestamp()
            k = math.floor((began - offset) / INTERVAL)
            if not first <= k <= last:
                continue
            probed.add(k)
            slot = offset + k * INTERVAL
            answered = began + result.latency.total - slot
            report.started_late.append(began - slot)
            report.answered_late.append(answered)
            if answered > max_late:
                report.slow.append((endpoint_id, answered))
            if not result.ok:
                report.down.append(result)
        report.missing.extend(
            (endpoint_id, offset + k * INTERVAL) for k in range(first, last + 1) if k not in probed
        )
    return report


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``; 0 when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def _targets(
    backend: Backend, urls: dict[str, str], hostile: int, healthy: int
) -> tuple[CrowdRun, list[Target]]:
    kinds = list(HOSTILE)
    run = CrowdRun(
        healthy=[f"healthy-{i}" for i in range(healthy)],
        hostile={f"hostile-{i}": kinds[i % len(kinds)] for i in range(hostile)},
    )
    specs = [ProbeSpec(e, f"{backend.url}/{e}", timeout=TIMEOUT) for e in run.healthy]
    specs += [ProbeSpec(e, f"{urls[kind]}/{e}", timeout=TIMEOUT) for e, kind in run.hostile.items()]
    return run, [Target(spec, INTERVAL) for spec in specs]


async def run_crowd(hostile: int = 500, healthy: int = 20, seconds: float = 5.0) -> CrowdRun:
    """Probe ``hostile`` hostile and ``healthy`` healthy endpoints every second for a
    warm-up second plus a ``seconds`` window; return every result."""
    clock = SystemClock()  # APScheduler runs on real time, so the scheduler's clock must too
    metrics = Metrics(CollectorRegistry())
    async with (
        _quiet_apscheduler(),
        hostile_servers() as urls,
        loopback_backend() as backend,
        HttpProber(clock=clock) as prober,
    ):
        run, targets = _targets(backend, urls, hostile, healthy)
        scheduler = ProbeScheduler(prober, run.record, metrics, clock)
        scheduler.set_targets(targets)
        now = clock.now().timestamp()
        # Every endpoint has started once after the first interval; measure after that.
        run.window = (now + INTERVAL + 0.5, now + INTERVAL + 0.5 + seconds)
        scheduler.start()
        try:
            await wait_until(
                lambda: _past(run, run.window[1] + INTERVAL),
                timeout=seconds + 20,
                what="every endpoint to report a probe started after the window",
            )
        finally:
            await scheduler.shutdown(timeout=TIMEOUT + 1)
    run.skipped = {
        reason: metrics.registry.get_sample_value(
            "monitor_center_scheduler_skipped_runs_total", {"reason": reason}
        )
        or 0.0
        for reason in ("in_flight", "missed")
    }
    run.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return run


@asynccontextmanager
async def _quiet_apscheduler() -> AsyncIterator[None]:
    """As ``serve`` does: no warning per skipped run (hundreds a second here)."""
    logger = logging.getLogger("apscheduler")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def _past(run: CrowdRun, at: float) -> bool:
    """True once every endpoint has a result of a probe started at or after ``at``."""
    everyone: Sequence[str] = [*run.healthy, *run.hostile]
    return all(run.latest_start.get(e, 0.0) >= at for e in everyone)


if __name__ == "__main__":
    # These servers stand for machines elsewhere: on a busy host the collector comes first.
    os.nice(10)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_hostile())
