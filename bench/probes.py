"""Probe throughput: 5,000 endpoints at 1 s against nginx, every result stored.

Measures the whole path (APScheduler -> aiohttp probe on a fresh connection -> COPY into
the database) and, in the same run, Debian's blackbox_exporter driven by wrk on /probe.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
import urllib.request
import uuid

import psycopg
from prometheus_client import CollectorRegistry

from bench.procs import blackbox_exporter, nginx, wrk_requests_per_second
from bench.table import Row
from collectors.http import HttpProber, ProbeSpec
from core.clock import SystemClock
from core.results import ProbeResult
from monitor_center.db import apply_migrations, open_pool
from monitor_center.db.repositories import ProbeResultRepository
from monitor_center.metrics import Metrics
from monitor_center.scheduling import ProbeScheduler, Target
from monitor_center.writer import ResultWriter

ADMIN_URL = os.environ.get(
    "MONITOR_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TARGET = 3000.0
BLACKBOX_PUBLISHED = 1000.0  # per core, the figure PRODUCT.md quotes


async def _measure_ours(
    nginx_port: int, endpoints: int, seconds: float
) -> tuple[float, float, int]:
    dbname = f"mc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {dbname}")
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname
    try:
        await apply_migrations(url)
        pool = await open_pool(url, min_size=2, max_size=4)
        try:
            return await _run_scheduler(pool, nginx_port, endpoints, seconds)
        finally:
            await pool.close()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


async def _run_scheduler(
    pool: object, port: int, endpoints: int, seconds: float
) -> tuple[float, float, int]:
    repo = ProbeResultRepository(pool)  # type: ignore[arg-type]
    clock = SystemClock()
    metrics = Metrics(CollectorRegistry())
    writer = ResultWriter(repo.insert_many, metrics, batch_size=5000, flush_interval=0.2)
    writer.start()
    window = {"start": float("inf"), "end": float("inf"), "n": 0, "ok": 0}

    def on_result(result: ProbeResult) -> None:
        metrics.observe_probe(result)
        writer.submit(result)
        now = time.monotonic()
        if window["start"] <= now < window["end"]:
            window["n"] += 1
            window["ok"] += result.ok

    async with HttpProber(clock=clock) as prober:
        scheduler = ProbeScheduler(prober, on_result, metrics, clock)
        scheduler.set_targets(
            [
                Target(ProbeSpec(f"bench-{i}", f"http://127.0.0.1:{port}/e/{i}", timeout=5.0), 1.0)
                for i in range(endpoints)
            ]
        )
        scheduler.start()
        await asyncio.sleep(3.0)  # warm-up: every endpoint has had its first run
        window["start"] = time.monotonic()
        window["end"] = window["start"] + seconds
        await asyncio.sleep(seconds)
        await scheduler.shutdown()
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
        f"  ours: {window['n']} probes in {seconds:.0f}s ({window['ok']} ok), "
        f"{stored} rows stored, {skipped:.0f} runs skipped, peak RSS {rss_mb:.0f} MB"
    )
    return window["n"] / seconds, rss_mb, stored


def _measure_blackbox(nginx_port: int) -> float | None:
    with blackbox_exporter() as port:
        if port is None:
            return None
        url = f"http://127.0.0.1:{port}/probe?module=http_2xx&target=http://127.0.0.1:{nginx_port}/"
        with urllib.request.urlopen(url, timeout=10) as resp:
            if "probe_success 1" not in resp.read().decode():
                raise RuntimeError("blackbox_exporter's probe of nginx did not succeed")
        rps = wrk_requests_per_second(url, seconds=10)
        print(f"  blackbox_exporter: {rps} probes/s driven by wrk")
        return rps


async def run(endpoints: int = 5000, seconds: float = 20.0) -> list[Row]:
    print(f"probe throughput: {endpoints} endpoints at 1 s for {seconds:.0f} s")
    with nginx() as port:
        if port is None:
            return [Row("probe throughput", "probes/s", TARGET, None, None, "nginx missing")]
        ours, _rss, _stored = await _measure_ours(port, endpoints, seconds)
        reference = await asyncio.to_thread(_measure_blackbox, port)
    return [
        Row(
            "probe throughput",
            "probes/s",
            TARGET,
            ours,
            reference,
            "blackbox_exporter, same machine" if reference else "blackbox_exporter (published)",
            note=f"{endpoints} endpoints @1s, fresh connection each, stored",
        )
        if reference
        else Row(
            "probe throughput",
            "probes/s",
            TARGET,
            ours,
            BLACKBOX_PUBLISHED,
            "blackbox_exporter (published, per core)",
        )
    ]
