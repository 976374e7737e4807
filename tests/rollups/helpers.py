"""Building raw data and reading rollups back, for the rollup tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg_pool import AsyncConnectionPool

from core.results import Latency, ProbeResult
from monitor_center.db import open_pool
from monitor_center.db.repositories import ProbeResultRepository, RollupRepository
from monitor_center.rollups import RollupJob, RollupScope
from tests.dbutil import scratch_database

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
KINDS = {"ngsp-tx": "counter", "level4-share": "gauge"}
SCOPE = RollupScope(ZONE, KINDS)


def local(text: str) -> datetime:
    """An instant written in the center's local time: ``2026-03-09 23:58:00``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


@dataclass
class Store:
    """A scratch database of one flavour (plain or TimescaleDB) and a pool on it."""

    url: str
    pool: AsyncConnectionPool
    template: str

    @property
    def repo(self) -> RollupRepository:
        return RollupRepository(self.pool)

    def job(self) -> RollupJob:
        return RollupJob(self.repo)

    async def rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(query, params)
            return await cur.fetchall()

    async def endpoint(self, endpoint_id: str, interval: float) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO endpoints (id, agency_id, url, interval_seconds, timeout_seconds)"
                " VALUES (%s, 'ngsp', 'https://ngsp.gov.vn/', %s, 5)",
                (endpoint_id, interval),
            )

    async def results(self, endpoint_id: str, rows: Sequence[tuple[datetime, bool, float]]) -> None:
        """Store (time, ok, latency ms) results through the writers' repository."""
        await ProbeResultRepository(self.pool).insert_many(
            [
                ProbeResult(
                    endpoint_id=endpoint_id,
                    time=t,
                    ok=ok,
                    status=200 if ok else 503,
                    reason=None if ok else "status 503",
                    latency=Latency(total=ms / 1000.0),
                )
                for t, ok, ms in rows
            ]
        )

    async def samples(self, series_id: str, rows: Sequence[tuple[datetime, float]]) -> None:
        async with self.pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO series_samples (series_id, time, value) VALUES (%s, %s, %s)",
                [(series_id, t, v) for t, v in rows],
            )

    async def probe_rollups(self, resolution: str) -> dict[tuple[str, datetime], tuple[Any, ...]]:
        """(endpoint, local bucket start) -> (total, ok, downtime, covered, p50, p95, p99)."""
        rows = await self.rows(
            "SELECT endpoint_id, bucket, total, ok, downtime_seconds, covered_seconds,"
            " latency_p50_ms, latency_p95_ms, latency_p99_ms FROM probe_rollups"
            " WHERE resolution = %s",
            (resolution,),
        )
        return {(r[0], r[1].astimezone(ZONE).replace(tzinfo=None)): tuple(r[2:]) for r in rows}

    async def series_rollups(self, resolution: str) -> dict[tuple[str, datetime], tuple[Any, ...]]:
        """(series, local bucket start) -> (samples, min, max, avg, last, increase)."""
        rows = await self.rows(
            "SELECT series_id, bucket, samples, min, max, avg, last, increase"
            " FROM series_rollups WHERE resolution = %s",
            (resolution,),
        )
        return {(r[0], r[1].astimezone(ZONE).replace(tzinfo=None)): tuple(r[2:]) for r in rows}

    async def dump(self) -> list[tuple[Any, ...]]:
        """Every rollup row, without the time it was rolled at."""
        probes = await self.rows(
            "SELECT endpoint_id, resolution, bucket, total, ok, downtime_seconds,"
            " covered_seconds, latency_p50_ms, latency_p95_ms, latency_p99_ms"
            " FROM probe_rollups ORDER BY 1, 2, 3"
        )
        series = await self.rows(
            "SELECT series_id, resolution, bucket, samples, min, max, avg, last, increase"
            " FROM series_rollups ORDER BY 1, 2, 3"
        )
        return probes + series


@asynccontextmanager
async def open_store(template: str) -> AsyncIterator[Store]:
    """A fresh database cloned from ``template``."""
    with scratch_database(template=template) as url:
        pool = await open_pool(url, min_size=1, max_size=4)
        try:
            yield Store(url, pool, template)
        finally:
            await pool.close()


def at(text: str) -> datetime:
    """A local wall-clock time as the naive key ``Store.probe_rollups`` uses."""
    return datetime.fromisoformat(text)
