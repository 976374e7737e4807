"""Probe throughput: 5,000 endpoints at 1 s against nginx, every result stored.

Measures the whole path (APScheduler -> aiohttp probe on a fresh connection -> COPY into
the database) and, in the same run, Debian's blackbox_exporter driven by wrk on /probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
import urllib.request

from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from bench.procs import blackbox_exporter, nginx, wrk_requests_per_second
from bench.scratch import scratch_database
from bench.table import Row
from collectors.http import HttpProber, ProbeSpec
from core.clock import SystemClock
from core.results import ProbeResult
from monitor_center.db import apply_migrations, open_pool
from monitor_center.db.repositories import ProbeResultRepository
from monitor_center.metrics import Metrics
from monitor_center.probe_workers import ProbeWorkerPool
from monitor_center.scheduling import ProbeScheduler, Target
from monitor_center.writer import ResultWriter

TARGET = 3000.0
BLACKBOX_PUBLISHED = 1000.0  # per core, the figure PRODUCT.md quotes


async def _measure_ours(
    nginx_port: int, endpoints: int, seconds: float, workers: int
) -> tuple[float, float, int]:
    with scratch_database() as url:
        await apply_migrations(url)
        pool = await open_pool(url, min_size=2, max_size=4)
        try:
            return await _run_scheduler(pool, nginx_port, endpoints, seconds, workers)
        finally:
            await pool.close()


async def _run_scheduler(
    pool: AsyncConnectionPool, port: int, endpoints: int, seconds: float, workers: int
) -> tuple[float, float, int]:
    repo = ProbeResultRepository(pool)
    clock = SystemClock()
    metrics = Metrics(CollectorRegistry())
    writer = ResultWriter(repo.insert_many, metrics, batch_size=5000, flush_interval=0.2)
    writer.start()
    window = {"start": float("inf"), "end": float("inf"), "n": 0, "ok": 0}

    def on_result(result: ProbeResult) -> None:
        metrics.observe_probe(result)
        writer.submit(result)
        # Counted by the probe's start time, so a backlog cannot inflate the window.
        started = result.time.timestamp()
        if window["start"] <= started < window["end"]:
            window["n"] += 1
            window["ok"] += result.ok

    targets = [
        Target(ProbeSpec(f"bench-{i}", f"http://127.0.0.1:{port}/e/{i}", timeout=5.0), 1.0)
        for i in range(endpoints)
    ]
    schedule: ProbeScheduler | ProbeWorkerPool
    async with contextlib.AsyncExitStack() as stack:
        if workers:
            schedule = ProbeWorkerPool(workers, on_result, metrics)
        else:
            prober = await stack.enter_async_context(HttpProber(clock=clock))
            schedule = ProbeScheduler(prober, on_result, metrics, clock)
        schedule.set_targets(targets)
        schedule.start()
        await asyncio.sleep(5.0)  # warm-up: workers spawned, every endpoint has run once
        window["start"] = time.time()
        window["end"] = window["start"] + seconds
        await asyncio.sleep(seconds + 6.0)  # + the probe timeout: late results still count
        await schedule.shutdown()
    await writer.drained()
    await writer.close()
    stored = await repo.count()
    skipped = sum(
        metrics.registry.get_sample_value(
            "monitor_center_scheduler_skipped_runs_total", {"reason": r}
        )
        or 0.0
        for r in ("in_flight", "missed")
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  ours ({workers or 'no'} worker processes): {window['n']} probes started in"
        f" {seconds:.0f}s ({window['ok']} ok), {stored} rows stored in all,"
        f" {skipped:.0f} runs skipped, service peak RSS {rss_mb:.0f} MB"
    )
    return window["n"] / seconds, rss_mb, stored


def _measure_blackbox(nginx_port: int) -> float | None:
    with blackbox_exporter() as server:
        if server is None:
            return None
        url = f"http://127.0.0.1:{server.port}/probe?module=http_2xx&target=http://127.0.0.1:{nginx_port}/"
        with urllib.request.urlopen(url, timeout=10) as resp:
            if "probe_success 1" not in resp.read().decode():
                raise RuntimeError("blackbox_exporter's probe of nginx did not succeed")
        rps = wrk_requests_per_second(url, seconds=10)
        print(f"  blackbox_exporter: {rps} probes/s driven by wrk")
        return rps


async def run(endpoints: int = 5000, seconds: float = 20.0, workers: int = 2) -> list[Row]:
    print(f"probe throughput: {endpoints} endpoints at 1 s for {seconds:.0f} s")
    with nginx() as port:
        if port is None:
            return [Row("probe throughput", "probes/s", TARGET, None, None, "nginx missing")]
        pooled, _, _ = await _measure_ours(port, endpoints, seconds, workers)
        single, _, _ = await _measure_ours(port, endpoints, seconds, 0)
        measured = await asyncio.to_thread(_measure_blackbox, port)
    reference = measured or BLACKBOX_PUBLISHED
    name = "blackbox_exporter, same run" if measured else "blackbox_exporter, published/core"
    note = f"{endpoints} endpoints @1s, fresh connection each, stored"
    return [
        Row(
            "probe throughput",
            "probes/s",
            TARGET,
            pooled,
            reference,
            name,
            note=f"{note}, {workers} probe workers",
        ),
        Row(
            "probe throughput",
            "probes/s",
            TARGET,
            single,
            reference,
            name,
            note=f"{note}, in-process",
        ),
    ]
