"""Footprint: the service's resident memory with 10,000 endpoints at their 60 s interval.

A real ``monitor-center serve`` (its own process, default settings, a scratch database)
watches 10,000 endpoints on a one-worker nginx on loopback, with an ``endpoint_down``
rule. Its RSS (the process and any children) is sampled twice a second from the start;
once every endpoint has a stored result (one full probing round), one more whole
interval is sampled: its median is the steady state. The peak is the kernel's own
(``VmHWM``), which no sampler can miss.

The reference, at the same time on the same nginx: Prometheus scraping the same 10,000
targets through blackbox_exporter at the same interval (``bench/prom_config.py``, no
rules), its RSS sampled the same way (both processes), its round complete once it holds
``probe_success`` for every target. Its figure includes its storage (the TSDB head),
the center's does not include PostgreSQL's (a server shared with everything else).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psycopg

from bench.memory import Sampler, each, peak_mb, tree
from bench.procs import Server, blackbox_exporter, free_port, nginx, prometheus
from bench.prom_config import prometheus_config
from bench.scratch import scratch_database
from bench.table import Row

TARGET_MB = 300.0
AREA = "footprint"
UNMEASURED = "Uptime Kuma: trouble past ~500 monitors (PRODUCT.md, no figure)"

Targets = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Footprint:
    """One side's memory: steady-state median and peak, in MB."""

    steady: float | None
    peak: float | None
    covered: int = 0  # endpoints with a result after the first round


def _config(targets: Targets, interval: float) -> str:
    """The center's config: one agency per 100 endpoints, an ``endpoint_down`` rule."""
    endpoints = [
        {"id": eid, "agency": f"ag-{i // 100:03d}", "url": url, "interval": f"{interval:g}s"}
        for i, (eid, url) in enumerate(targets)
    ]
    agencies = [
        {"id": f"ag-{a:03d}", "name": f"Cơ quan {a:03d}", "kind": "province"}
        for a in range((len(targets) + 99) // 100)
    ]
    config = {
        "auth": {
            "tokens": [{"name": "bench", "token": "bench-rss-token-0123456789", "role": "viewer"}]
        },
        "agencies": agencies,
        "endpoints": endpoints,
        "rules": [{"id": "down", "kind": "endpoint_down", "severity": "critical"}],
    }
    return json.dumps(config)  # JSON is YAML


@contextlib.asynccontextmanager
async def _service(database_url: str, config: Path) -> AsyncIterator[int]:
    """``monitor-center serve`` in its own process until the block ends; yields its pid
    once ``/healthz`` answers."""
    port = free_port()
    cli = Path(sys.executable).parent / "monitor-center"
    env = {**os.environ, "MONITOR_DATABASE_URL": database_url}
    argv = ["serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    log = config.with_suffix(".log")
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            cli, *argv, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        healthy = _healthz(f"http://127.0.0.1:{port}/healthz", proc, log)
        await _until(healthy, 120.0, "the service to answer /healthz", log)
        yield proc.pid
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)


def _healthz(
    url: str, proc: asyncio.subprocess.Process, log: Path
) -> Callable[[], Awaitable[bool]]:
    async def answers() -> bool:
        if proc.returncode is not None:
            raise RuntimeError(f"the service exited with {proc.returncode}:\n{_tail(log)}")
        try:
            async with aiohttp.ClientSession() as http, http.get(url) as resp:
                return resp.status == 200
        except aiohttp.ClientError:
            return False

    return answers


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-2000:] if log else ""


async def _until(
    condition: Callable[[], Awaitable[bool]], timeout: float, what: str, log: Path | None = None
) -> None:
    """Check ``condition`` every second until it holds; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}\n{_tail(log)}")
        await asyncio.sleep(1.0)  # the state lives in other processes: looked at, not awaited


@dataclass
class Side:
    """One watcher of the endpoints (the center, or Prometheus + blackbox_exporter):
    its processes, how many endpoints it has a result for, its RSS samples."""

    name: str
    pids: Callable[[], list[int]]
    probed: Callable[[], Awaitable[int]]
    sampler: Sampler = field(init=False)
    covered: int = 0

    def __post_init__(self) -> None:
        self.sampler = Sampler(self.pids)

    async def first_round(self, endpoints: int, timeout: float) -> None:
        """Wait until every endpoint has a result (at most ``timeout`` s; a side that
        falls short is reported with what it covered, not dropped)."""
        began = time.monotonic()
        while (covered := await self.probed()) < endpoints:
            if time.monotonic() - began > timeout:
                break
            await asyncio.sleep(1.0)  # counted in another process: looked at, not awaited
        self.covered = covered
        mb = self.sampler.highest() or 0.0
        print(f"  {self.name}: {covered:,} of {endpoints:,} endpoints probed after"
              f" {time.monotonic() - began:.0f} s, {mb:.0f} MB so far")  # fmt: skip

    def footprint(self, since: float) -> Footprint:
        print(f"  {self.name}, by process: {each(self.pids())}")
        return Footprint(self.sampler.median_since(since), peak_mb(self.pids()), self.covered)


def _ours(database_url: str, pid: int) -> Side:
    async def probed() -> int:
        return await _count(database_url, "SELECT count(DISTINCT endpoint_id) FROM probe_results")

    return Side("center", lambda: tree(pid), probed)


def _theirs(prom: Server, bbe: Server) -> Side:
    async def probed() -> int:
        return await _prometheus_count(prom.port, "count(probe_success)")

    return Side("Prometheus+blackbox_exporter", lambda: [prom.pid, bbe.pid], probed)


async def _count(database_url: str, query: str) -> int:
    """The first column of ``query``'s first row (a constant query of this module)."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(query)
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _prometheus_count(port: int, query: str) -> int:
    url = f"http://127.0.0.1:{port}/api/v1/query"
    async with aiohttp.ClientSession() as http, http.get(url, params={"query": query}) as resp:
        if resp.status == 503:  # still starting: listening, but not ready
            return 0
        resp.raise_for_status()
        result = (await resp.json())["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


@contextlib.contextmanager
def _reference(targets: Targets, interval: float, wanted: bool) -> Iterator[Side | None]:
    """blackbox_exporter and Prometheus scraping ``targets`` (None: not wanted, or not
    installed)."""
    if not wanted:
        yield None
        return
    with blackbox_exporter() as bbe:
        if bbe is None:
            yield None
            return
        with prometheus(lambda _: prometheus_config(targets, bbe.port, interval)) as prom:
            yield None if prom is None else _theirs(prom, bbe)


async def _measure(
    database_url: str, workdir: Path, targets: Targets, interval: float, reference: bool
) -> tuple[Footprint, Footprint | None]:
    config = workdir / "center.yaml"
    config.write_text(_config(targets, interval))
    async with _service(database_url, config) as pid:
        with _reference(targets, interval, reference) as theirs:
            sides = [_ours(database_url, pid)] + ([theirs] if theirs else [])
            for side in sides:
                side.sampler.start()
            # Both rounds run at once; the steady window starts once both are done.
            await asyncio.gather(*(s.first_round(len(targets), interval + 120.0) for s in sides))
            steady = time.monotonic()
            before = await _count(database_url, "SELECT count(*) FROM probe_results")
            await asyncio.sleep(interval)  # one more whole round: the steady state's window
            after = await _count(database_url, "SELECT count(*) FROM probe_results")
            print(f"  center: {(after - before) / interval:,.0f} probes/s stored in that round")
            for side in sides:
                await side.sampler.stop()
            footprints = [side.footprint(steady) for side in sides]
    return footprints[0], (footprints[1] if len(footprints) > 1 else None)


def _valid(fp: Footprint | None, endpoints: int) -> Footprint | None:
    """``fp`` if it is a footprint of all ``endpoints`` (every one probed), else None."""
    return fp if fp is not None and fp.covered >= endpoints else None


def _rows(endpoints: int, interval: float, ours: Footprint, theirs: Footprint | None) -> list[Row]:
    note = (
        f"{endpoints:,} endpoints @{interval:g}s on nginx, monitor-center serve (no PostgreSQL)"
        + ("; reference includes its TSDB, 2 processes" if theirs else "")
        + "; median over the round after the first"
    )
    # A side that did not probe every endpoint has no footprint "of 10,000 endpoints":
    # its figures go to the note, the row reads n/a.
    for side, fp in (("center", ours), ("reference", theirs)):
        if fp is not None and _valid(fp, endpoints) is None:
            note += (
                f"; {side} probed only {fp.covered:,} of {endpoints:,} endpoints in time"
                f" (steady {fp.steady or 0:.0f} MB, peak {fp.peak or 0:.0f} MB)"
            )
    mine = _valid(ours, endpoints) or Footprint(None, None)
    ref = _valid(theirs, endpoints) or Footprint(None, None)
    name = "Prometheus+blackbox_exporter, same run" if theirs else UNMEASURED
    return [
        Row(AREA, "MB RSS, steady", TARGET_MB, mine.steady, ref.steady, name,
            higher_is_better=False, note=note),
        Row(AREA, "MB RSS, peak", TARGET_MB, mine.peak, ref.peak, name, higher_is_better=False,
            note="kernel's VmHWM, summed over each side's processes"),
    ]  # fmt: skip


async def run(endpoints: int = 10_000, interval: float = 60.0, reference: bool = True) -> list[Row]:
    """Measure the center's footprint (and, unless ``reference`` is off, Prometheus's)."""
    print(f"footprint: {endpoints:,} endpoints every {interval:g}s")
    with nginx() as port:
        if port is None:
            return _rows(endpoints, interval, Footprint(None, None), None)
        targets = [(f"ep-{i:05d}", f"http://127.0.0.1:{port}/e/{i}") for i in range(endpoints)]
        with scratch_database("mc_bench_rss") as url, tempfile.TemporaryDirectory() as tmp:
            ours, theirs = await _measure(url, Path(tmp), targets, interval, reference)
    for side, fp in (("center", ours), ("reference", theirs)):
        if fp:
            print(f"  {side}: steady {fp.steady or 0:.0f} MB, peak {fp.peak or 0:.0f} MB")
    return _rows(endpoints, interval, ours, theirs)
