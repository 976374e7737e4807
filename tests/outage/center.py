"""A center probing loopback endpoints and polling loopback series, its database reached
through a ``DatabaseProxy`` the test can cut; and the counts a test compares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr

from collectors.http import HttpProber, ProbeSpec
from core.clock import SystemClock
from core.results import ProbeResult
from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.outage.proxy import DatabaseProxy
from tests.running import Backend, loopback_backend, serving
from tests.series.sources import Sources, serve_sources

VIEWER = "outage-viewer-token-0123456789"
ENDPOINTS = ("ngsp-api", "dvc-portal", "ha-noi-portal", "hue-portal")
SERIES = ("ngsp-transactions", "level4-share")
INTERVAL = "200ms"


class CountingProber:
    """The real prober, recording every result it hands the center."""

    def __init__(self) -> None:
        self.inner = HttpProber(clock=SystemClock())
        self.results: list[ProbeResult] = []

    async def probe(self, spec: ProbeSpec) -> ProbeResult:
        result = await self.inner.probe(spec)
        self.results.append(result)
        return result

    def keys(self) -> set[tuple[str, datetime]]:
        return {(r.endpoint_id, r.time) for r in self.results}


def config_text(backend: Backend, sources: Sources, extra: str = "") -> str:
    """Four endpoints and two JSON series, every 200 ms; ``extra`` adds top-level YAML."""
    endpoints = "\n".join(
        f'  - {{id: {e}, agency: ngsp, url: "{backend.url}/{e}", interval: {INTERVAL}}}'
        for e in ENDPOINTS
    )
    series = "\n".join(
        f"  - {{id: {s}, agency: ngsp, kind: gauge, interval: {INTERVAL},"
        f' source: {{type: json, url: "{sources.json("/" + s, {"v": 42.5})}", path: "$.v"}}}}'
        for s in SERIES
    )
    return f"""
auth:
  tokens:
    - {{name: wall, token: {VIEWER}, role: viewer}}
agencies:
  - {{id: ngsp, name: NGSP, kind: platform}}
endpoints:
{endpoints}
series:
{series}
{extra}
"""


def outage_settings(database_url: str, spool_dir: Path, **overrides: Any) -> Settings:
    """Small memory bound and batches, so that a short outage reaches the spool."""
    values: dict[str, Any] = {
        "database_url": SecretStr(database_url),
        "spool_dir": spool_dir,
        "write_buffer_limit": 10,
        "write_batch_size": 5,
        "write_flush_interval": 0.05,
        "rule_eval_interval": 1.0,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Outage:
    """The running center, its proxy and its loopback peers."""

    service: Service
    proxy: DatabaseProxy
    backend: Backend
    prober: CountingProber
    db_url: str
    base: str

    def metric(self, name: str, **labels: str) -> float:
        value = self.service.metrics.registry.get_sample_value(name, labels)
        return value or 0.0

    def count(self, query: str) -> int:
        """A count straight from the database (never through the proxy)."""
        with psycopg.connect(self.db_url) as conn:
            row = conn.execute(query).fetchone()
        assert row is not None
        return int(row[0])

    def stored_keys(self) -> list[tuple[str, datetime]]:
        with psycopg.connect(self.db_url) as conn:
            rows = conn.execute("SELECT endpoint_id, time FROM probe_results").fetchall()
        return [(str(e), t) for e, t in rows]


@asynccontextmanager
async def running_center(
    db_url: str, spool_dir: Path, *, extra: str = "", **settings: Any
) -> AsyncIterator[Outage]:
    """A serving center on ``db_url`` through a proxy; everything stops at the end."""
    async with (
        loopback_backend() as backend,
        serve_sources() as sources,
        DatabaseProxy() as proxy,
    ):
        config = parse_config_text(config_text(backend, sources, extra), filename="c.yaml", env={})
        prober = CountingProber()
        service = Service(
            outage_settings(proxy.url(db_url), spool_dir, **settings), config, prober=prober
        )
        async with prober.inner, serving(service) as base:
            yield Outage(service, proxy, backend, prober, db_url, base)
