"""A center killed (SIGKILL) while the database is away leaves its spool on disk; the
next center to start on that database stores every item of it."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import psycopg

from collectors.series import SeriesReading
from core.results import ProbeResult
from monitor_center.config import parse_config_text
from monitor_center.series.writer import READING_CODEC
from monitor_center.service import Service
from monitor_center.spool import Codec, decode_segment
from monitor_center.writer import RESULT_CODEC
from tests.outage.center import config_text, outage_settings
from tests.outage.proxy import DatabaseProxy
from tests.running import free_port, loopback_backend, serving
from tests.series.sources import serve_sources
from tests.waiting import wait_until

CLI = [sys.executable, "-m", "monitor_center.cli"]
T = TypeVar("T")


def _left(spool_dir: Path, codec: Codec[T]) -> list[T]:
    items: list[T] = []
    for segment in sorted(spool_dir.glob(f"*/{codec.kind}/slot-*/*.jsonl")):
        items += decode_segment(segment.read_bytes(), codec).items
    return items


def _count(db_url: str, query: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def _stored(db_url: str, query: str) -> set[tuple[str, datetime]]:
    with psycopg.connect(db_url) as conn:
        return {(str(a), b) for a, b in conn.execute(query).fetchall()}


async def test_a_spool_left_by_a_killed_center_is_stored_by_the_next_start(
    db_url: str, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    async with loopback_backend() as backend, serve_sources() as sources:
        text = config_text(backend, sources)
        (tmp_path / "center.yaml").write_text(text, encoding="utf-8")
        async with DatabaseProxy() as proxy:
            settings = outage_settings(proxy.url(db_url), spool_dir)
            env = {
                **os.environ,
                "MONITOR_DATABASE_URL": proxy.url(db_url),
                "MONITOR_SPOOL_DIR": str(spool_dir),
                "MONITOR_WRITE_BUFFER_LIMIT": str(settings.write_buffer_limit),
                "MONITOR_WRITE_BATCH_SIZE": str(settings.write_batch_size),
            }
            proc = await asyncio.create_subprocess_exec(
                *CLI,
                *("serve", "--config", str(tmp_path / "center.yaml"), "--port", str(free_port())),
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:

                async def storing() -> bool:
                    return _count(db_url, "SELECT count(*) FROM probe_results") > 0

                await wait_until(storing, timeout=30, what="the center to store results")
                await proxy.cut()

                async def spooled() -> bool:
                    results = len(_left(spool_dir, RESULT_CODEC))
                    return results >= 40 and len(_left(spool_dir, READING_CODEC)) >= 20

                await wait_until(spooled, timeout=20, what="results and readings spooled")
            finally:
                proc.kill()
                await proc.wait()
        results: list[ProbeResult] = _left(spool_dir, RESULT_CODEC)
        readings: list[SeriesReading] = _left(spool_dir, READING_CODEC)
        config = parse_config_text(text, filename="center.yaml", env={})
        service = Service(outage_settings(db_url, spool_dir), config)
        async with serving(service):

            async def replayed() -> bool:
                return not list(spool_dir.rglob("*.jsonl"))

            await wait_until(replayed, timeout=20, what="the left spool replayed and deleted")
        registry = service.metrics.registry
        for kind, left in (("results", results), ("series", readings)):
            count = registry.get_sample_value(
                "monitor_center_spool_replayed_items_total", {"kind": kind}
            )
            assert count == len(left)
    probes = _stored(db_url, "SELECT endpoint_id, time FROM probe_results")
    assert {(r.endpoint_id, r.time) for r in results} <= probes
    samples = _stored(db_url, "SELECT series_id, time FROM series_samples")
    assert {(r.series_id, r.time) for r in readings if r.value is not None} <= samples
