"""``monitor-center demo``: the simulated fleet and the whole center on top of it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
from pydantic import SecretStr
from rich.console import Console

from monitor_center.config import format_duration, parse_config_text, parse_duration
from monitor_center.db import redact_url
from monitor_center.demo.agencies import AgencyInfo, load_agencies
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.demo.fleet_config import fleet_config_yaml
from monitor_center.demo.history import maintenance_entries
from monitor_center.demo.prefill import prefill
from monitor_center.demo.sink import WebhookSink
from monitor_center.service import Service
from monitor_center.settings import Settings

log = logging.getLogger(__name__)

LOCAL_CLUSTER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEMO_DB = "monitor_center_demo"
FLEET_SEED = 1


@dataclass(frozen=True, slots=True)
class DemoTokens:
    viewer: str
    operator: str
    admin: str

    @classmethod
    def fresh(cls) -> DemoTokens:
        return cls(*(f"demo-{role}-{secrets.token_urlsafe(12)}" for role in ("v", "o", "a")))


def _local_timescaledb_url() -> str | None:
    """The local cluster's demo database when the cluster runs TimescaleDB, else None."""
    try:
        with psycopg.connect(LOCAL_CLUSTER, connect_timeout=3, autocommit=True) as conn:
            row = conn.execute(
                "SELECT current_setting('shared_preload_libraries') LIKE '%timescaledb%'"
            ).fetchone()
            if not row or not row[0]:
                return None
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DEMO_DB,)
            ).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {DEMO_DB}")
    except psycopg.Error:
        return None
    return LOCAL_CLUSTER.rsplit("/", 1)[0] + "/" + DEMO_DB


def choose_database(settings: Settings, data_dir: Path) -> str:
    """MONITOR_DATABASE_URL, else the local TimescaleDB, else an embedded PostgreSQL."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return _local_timescaledb_url() or embedded_database_url(data_dir)


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) an embedded PostgreSQL under ``data_dir``; it stops at exit."""
    from pgserver import get_server  # type: ignore[attr-defined]  # only needed here

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "pgdata", cleanup_mode="stop")
    return str(server.get_uri())


async def run_demo(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    fleet_port: int = 8090,
    duration: float | None = None,
    interval: str = "10s",
    data_dir: Path = Path(".demo"),
    console: Console | None = None,
    backfill_days: float = 0,
) -> None:
    """Start the fleet, the alert sink and the center, print how to use them, run.

    With ``backfill_days``, that much history is written first (see ``prefill``).
    """
    out = console or Console(soft_wrap=True)
    url = await asyncio.to_thread(choose_database, settings, data_dir)
    tokens = DemoTokens.fresh()
    agencies = load_agencies()
    fleet = FleetSimulator(agencies, seed=FLEET_SEED)
    async with contextlib.AsyncExitStack() as stack:
        await fleet.start(host=host, port=fleet_port)
        stack.push_async_callback(fleet.stop)
        # Started before the service so that not even the first alert is lost; a fresh
        # secret each run, so only this center's signed requests are printed.
        sink_secret = secrets.token_urlsafe(24)
        sink = await stack.enter_async_context(WebhookSink(sink_secret, out))
        text = _config_text(fleet, agencies, interval, tokens, sink.url, sink_secret)
        config_path = data_dir / "demo-config.yaml"
        await asyncio.to_thread(_write_text, config_path, text)
        config = parse_config_text(text, filename=str(config_path), env={})
        if backfill_days > 0:
            await prefill(
                out, url, settings, config, fleet, agencies, days=backfill_days, seed=FLEET_SEED
            )
        service = Service(settings.model_copy(update={"database_url": SecretStr(url)}), config)
        await service.start()
        stack.push_async_callback(service.stop)
        where = _Addresses(url, f"http://{host}:{port}", fleet.base_url, sink.url, config_path)
        banner = functools.partial(_print_banner, out, where, tokens, len(config.endpoints))
        await _serve_for(service, host, port, duration, on_listening=banner)


def _config_text(
    fleet: FleetSimulator,
    agencies: Sequence[AgencyInfo],
    interval: str,
    tokens: DemoTokens,
    sink_url: str,
    sink_secret: str,
) -> str:
    """The demo's config: the whole fleet, every alert routed to the signed sink."""
    return fleet_config_yaml(
        fleet.endpoints(),
        agencies,
        interval=interval,
        timeout=format_duration(min(parse_duration(interval), timedelta(seconds=5))),
        viewer_token=tokens.viewer,
        operator_token=tokens.operator,
        admin_token=tokens.admin,
        sink_url=sink_url,
        sink_secret=sink_secret,
        series=fleet.series(),
        maintenance=maintenance_entries(agency.id for agency in agencies),
    )


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


async def _serve_for(
    service: Service,
    host: str,
    port: int,
    duration: float | None,
    on_listening: Callable[[], None],
) -> None:
    server = asyncio.create_task(service.serve(host, port))
    try:
        # uvicorn exposes a "started" flag, not an event, hence the polling.
        while not service.serving and not server.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if service.serving:
            on_listening()
        if duration is None:
            await server
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(server), duration)
    finally:
        service.stop_serving()
        with contextlib.suppress(asyncio.CancelledError):
            await server


@dataclass(frozen=True, slots=True)
class _Addresses:
    """Where the demo's parts are, for the banner."""

    database: str
    api: str
    fleet: str
    sink: str
    config: Path


def _print_telemetry_hint(out: Console, fleet: str) -> None:
    """Where the transaction and KPI figures are, and how to make volume drop."""
    out.print(
        f"Telemetry: {fleet}/metrics, {fleet}/telemetry/ngsp.json; slow NGSP's transactions"
        " down (the volume_drop rule judges Vietnamese office hours only):",
        markup=False,
    )
    out.print(
        f"  curl -s -X POST {fleet}/_control/faults -H 'Content-Type: application/json'"
        ' -d \'{"series": "ngsp-transactions", "mode": "volume_drop"}\'',
        markup=False,
    )


def _print_banner(out: Console, where: _Addresses, tokens: DemoTokens, endpoints: int) -> None:
    api, fleet = where.api, where.fleet
    out.rule("[bold]Monitor Center demo")
    out.print(f"database       {redact_url(where.database)}", markup=False, highlight=False)
    out.print(f"fleet          {fleet}  ({endpoints} endpoints)", markup=False)
    out.print(f"config         {where.config}", markup=False)
    out.print(f"API docs       {api}/docs", markup=False)
    out.print(f"metrics        {api}/metrics", markup=False)
    out.print(
        f"alerts         {where.sink} (signed webhook) -> printed below as they arrive",
        markup=False,
    )
    out.print(f"viewer token   {tokens.viewer}", markup=False)
    out.print(f"operator token {tokens.operator}", markup=False)
    out.print(f"admin token    {tokens.admin}", markup=False)
    out.print("\nEndpoint states:", markup=False)
    out.print(
        f'  curl -s -H "Authorization: Bearer {tokens.viewer}" {api}/api/v1/endpoints',
        markup=False,
    )
    out.print(
        "Inject a fault (modes: down, slow, hang, wrong_content, ok), e.g. NGSP's portal:",
        markup=False,
    )
    out.print(
        f"  curl -s -X POST {fleet}/_control/faults -H 'Content-Type: application/json'"
        ' -d \'{"endpoint": "ngsp-portal", "mode": "down"}\'',
        markup=False,
    )
    out.print(
        "  a FIRING line prints here after two failed probes; mode ok resolves it;"
        " mode slow (2 s more) trips the latency rule within a minute.",
        markup=False,
    )
    _print_telemetry_hint(out, fleet)
    out.print("Ctrl-C stops the demo.", markup=False)
    out.rule()
