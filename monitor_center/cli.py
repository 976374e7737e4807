"""The ``monitor-center`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from monitor_center.config import Config, ConfigError, load_config
from monitor_center.db import DatabaseUnavailable
from monitor_center.rollups.cli import rollup_app
from monitor_center.runtime import run
from monitor_center.settings import Settings

if TYPE_CHECKING:
    from monitor_center.cluster import Role
    from monitor_center.service import Service

app = typer.Typer(
    name="monitor-center",
    help="National e-Government Monitoring Center: probes, telemetry, alerts, live wall.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(rollup_app, name="rollup")
err = Console(stderr=True)

EXIT_CONFIG = 2


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # APScheduler logs every skipped run; we count them in a metric instead.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        err.print(f"[red]invalid environment:[/red] {exc}")
        raise typer.Exit(EXIT_CONFIG) from None


def _load(path: Path) -> Config:
    try:
        return load_config(path, os.environ)
    except ConfigError as exc:
        err.print(f"[red]{len(exc.issues)} error(s) in the config:[/red]", highlight=False)
        for issue in exc.issues:
            err.print(f"  {issue}", highlight=False, markup=False)
        raise typer.Exit(EXIT_CONFIG) from None


@app.command("check-config")
def check_config(
    file: Annotated[Path, typer.Argument(help="the YAML config (may include other files)")],
) -> None:
    """Validate a config: exit 0 when valid, 2 with every error listed when not."""
    config = _load(file)
    typer.echo(
        f"{file}: valid: {len(config.agencies)} agencies, {len(config.endpoints)} endpoints,"
        f" {len(config.series)} series, {len(config.rules)} rules,"
        f" {len(config.channels)} channels"
    )


@app.command()
def serve(
    config_file: Annotated[Path, typer.Option("--config", help="the YAML config")],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
) -> None:
    """Run the center: probe the fleet, store results, serve the API."""
    _run_center(config_file, lambda service: service.serve(host, port))


@app.command()
def worker(
    config_file: Annotated[Path, typer.Option("--config", help="the YAML config")],
) -> None:
    """Probe a share of the fleet beside the other processes on the same database (no API).

    Every serve and worker process on one database and config shares the endpoints
    through leases in PostgreSQL; see "Scale-out" in the README. SIGINT or SIGTERM stop
    it cleanly (its endpoints go to the others at once), SIGHUP re-reads the config.
    """
    _run_center(config_file, _until_stopped, role="worker")


def _run_center(
    config_file: Path,
    main: Callable[[Service], Awaitable[None]],
    *,
    role: Role = "serve",
) -> None:
    """Start a center process on ``config_file``, run ``main`` until it returns, stop."""
    settings = _settings()
    _configure_logging(settings.log_level)
    config = _load(config_file)
    if settings.database_url is None:
        err.print("[red]MONITOR_DATABASE_URL is not set[/red] (a libpq URL of the database)")
        raise typer.Exit(EXIT_CONFIG)
    try:
        run(_center(settings, config, config_file, main, role))
    except DatabaseUnavailable as exc:
        err.print(f"[red]{exc}[/red]", markup=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


async def _center(
    settings: Settings,
    config: Config,
    config_file: Path,
    main: Callable[[Service], Awaitable[None]],
    role: Role,
) -> None:
    from monitor_center.service import Service

    service = Service(
        settings,
        config,
        config_loader=functools.partial(load_config, config_file, os.environ),
        role=role,
    )
    await service.start()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(_reload(service)))
    try:
        await main(service)
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        await service.stop()


async def _until_stopped(service: Service) -> None:
    """A worker has no server to wait on: it runs until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await stopping.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _reload(service: Service) -> None:
    """SIGHUP: re-read the config; on errors log each one and keep running the old one."""
    log = logging.getLogger("monitor_center.reload")
    try:
        await service.reload()
    except ConfigError as exc:
        log.error("config reload refused, the previous config stays in force:")
        for issue in exc.issues:
            log.error("  %s", issue)


@app.command()
def tail(
    url: Annotated[str, typer.Option(help="the center's base URL")] = "http://127.0.0.1:8080",
    token: Annotated[
        str | None,
        typer.Option(envvar="MONITOR_TOKEN", help="an API token, any role (or MONITOR_TOKEN)"),
    ] = None,
    since: Annotated[int | None, typer.Option(help="resume after this seq")] = None,
) -> None:
    """Follow the live feed in the terminal; reconnects by itself, resuming where it was."""
    from monitor_center.tail import TailOptions, live_url
    from monitor_center.tail import tail as follow

    if not token:
        err.print("[red]no token:[/red] pass --token or set MONITOR_TOKEN")
        raise typer.Exit(EXIT_CONFIG)
    try:
        live_url(url, token, since)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]", markup=False, highlight=False)
        raise typer.Exit(EXIT_CONFIG) from None
    status = 0
    with contextlib.suppress(KeyboardInterrupt):
        status = run(follow(TailOptions(url=url, token=token, since=since), Console()))
    if status:
        raise typer.Exit(status)


@app.command()
def demo(
    duration: Annotated[
        float | None, typer.Option(help="stop after this many seconds (default: until Ctrl-C)")
    ] = None,
    host: Annotated[
        str, typer.Option(help="address the API and the fleet listen on")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port of the center's API")] = 8080,
    fleet_port: Annotated[int, typer.Option(help="port of the simulated fleet")] = 8090,
    interval: Annotated[str, typer.Option(help="probe interval of the demo fleet")] = "10s",
    data_dir: Annotated[
        Path, typer.Option(help="where the demo keeps its config and embedded database")
    ] = Path(".demo"),
    backfill_days: Annotated[
        float,
        typer.Option(
            min=0,
            help="days of simulated history written before the center starts (0: none)",
        ),
    ] = 30,
) -> None:
    """Run the whole center on a simulated national fleet (embedded database if needed)."""
    from monitor_center.demo.runner import run_demo

    settings = _settings()
    _configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        run(
            run_demo(
                settings,
                host=host,
                port=port,
                fleet_port=fleet_port,
                duration=duration,
                interval=interval,
                data_dir=data_dir,
                backfill_days=backfill_days,
            )
        )


dashboards_app = typer.Typer(
    help="Grafana dashboards as code: write their JSON, push them to a Grafana.",
    no_args_is_help=True,
)
app.add_typer(dashboards_app, name="dashboards")


@dashboards_app.command("build")
def dashboards_build(
    out: Annotated[Path, typer.Option(help="folder for the JSON files")] = Path("dashboards/json"),
) -> None:
    """Generate every dashboard's JSON into OUT (what Grafana's provisioning loads)."""
    from monitor_center.dashboards import write_all

    for path, changed in write_all(out):
        typer.echo(f"{path}: {'written' if changed else 'unchanged'}")


@dashboards_app.command("push")
def dashboards_push(
    url: Annotated[str, typer.Option(help="Grafana's base URL, e.g. http://grafana:3000")],
    token: Annotated[
        str,
        typer.Option(
            envvar="GRAFANA_TOKEN",
            help="a service account token (or set GRAFANA_TOKEN, kept out of `ps`)",
        ),
    ],
    folder: Annotated[str, typer.Option(help="the folder to put them in")] = "Monitor Center",
) -> None:
    """Upload the dashboards (create the folder, overwrite) and report what changed."""
    from monitor_center.dashboards.push import PushError, push_all

    try:
        report = push_all(url, token, folder)
    except PushError as exc:
        err.print(f"Grafana refused: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    for line in report.lines(folder):
        typer.echo(line)


sla_app = typer.Typer(help="SLA history: monthly reports.", no_args_is_help=True)
app.add_typer(sla_app, name="sla")


@sla_app.command("report")
def sla_report(
    month: Annotated[str, typer.Option(help="the local month, YYYY-MM")],
    agency: Annotated[str | None, typer.Option(help="one agency's id")] = None,
    all_agencies: Annotated[bool, typer.Option("--all", help="every active agency")] = False,
    fmt: Annotated[str, typer.Option("--format", help="csv or html")] = "csv",
    out: Annotated[Path | None, typer.Option(help="write here (default: stdout)")] = None,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="the YAML config (time zone, KPI targets)")
    ] = None,
) -> None:
    """Monthly SLA report of one agency or all: CSV, or one self-contained HTML page."""
    from monitor_center.sla.cli_report import ReportError, ReportRequest, write_report

    settings = _settings()
    config = _load(config_file) if config_file else Config()
    if (agency is None) != all_agencies:
        err.print("[red]give either --agency ID or --all[/red]")
        raise typer.Exit(EXIT_CONFIG)
    if settings.database_url is None:
        err.print("[red]MONITOR_DATABASE_URL is not set[/red] (a libpq URL of the database)")
        raise typer.Exit(EXIT_CONFIG)
    request = ReportRequest(month, agency, fmt, out)
    try:
        run(write_report(settings.database_url.get_secret_value(), config, request))
    except ReportError as exc:
        err.print(f"[red]{exc}[/red]", markup=False, highlight=False)
        raise typer.Exit(EXIT_CONFIG) from None
    except ConnectionError as exc:
        err.print(f"[red]{exc}[/red]", markup=False, highlight=False)
        raise typer.Exit(1) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
