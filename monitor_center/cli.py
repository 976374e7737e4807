"""The ``monitor-center`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from monitor_center.config import Config, ConfigError, load_config
from monitor_center.db import DatabaseUnavailable
from monitor_center.runtime import run
from monitor_center.settings import Settings

if TYPE_CHECKING:
    from monitor_center.service import Service

app = typer.Typer(
    name="monitor-center",
    help="National e-Government Monitoring Center: probes, telemetry, alerts, live wall.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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
    settings = _settings()
    _configure_logging(settings.log_level)
    config = _load(config_file)
    if settings.database_url is None:
        err.print("[red]MONITOR_DATABASE_URL is not set[/red] (a libpq URL of the database)")
        raise typer.Exit(EXIT_CONFIG)
    try:
        run(_serve(settings, config, config_file, host, port))
    except DatabaseUnavailable as exc:
        err.print(f"[red]{exc}[/red]", markup=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


async def _serve(
    settings: Settings, config: Config, config_file: Path, host: str, port: int
) -> None:
    from monitor_center.service import Service

    service = Service(
        settings, config, config_loader=functools.partial(load_config, config_file, os.environ)
    )
    await service.start()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(_reload(service)))
    try:
        await service.serve(host, port)
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        await service.stop()


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
            )
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
