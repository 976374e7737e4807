"""``monitor-center rollup rebuild``: re-roll every bucket of a period, with a progress bar."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from monitor_center.config import Config
from monitor_center.config.models import DEFAULT_TIMEZONE
from monitor_center.db import DatabaseUnavailable, apply_migrations, open_pool, wait_for_database
from monitor_center.db.repositories.rollups import BucketRow, RollupRepository
from monitor_center.rollups.job import RollupJob, RollupReport, RollupScope
from monitor_center.runtime import run
from monitor_center.settings import Settings

rollup_app = typer.Typer(
    help="Hourly and daily rollups of probe results and series samples.",
    no_args_is_help=True,
)
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
_CONNECT_GIVE_UP_SECONDS = 10.0  # a command line fails fast instead of waiting for ever


@rollup_app.command("rebuild")
def rebuild(
    since: Annotated[
        datetime,
        typer.Option(formats=DATE_FORMATS, help="start, local time of the center: 2026-01-01"),
    ],
    until: Annotated[
        datetime | None,
        typer.Option(formats=DATE_FORMATS, help="end (exclusive), local time; default: now"),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="the YAML config (time zone, series kinds); default: what the job last used",
        ),
    ] = None,
) -> None:
    """Re-roll every hourly and daily bucket from SINCE (probes and series)."""
    # The command line's shared helpers; imported here because cli.py imports this module.
    from monitor_center import cli

    settings = cli._settings()
    cli._configure_logging(settings.log_level)
    config = cli._load(config_file) if config_file is not None else None
    if settings.database_url is None:
        cli.err.print("[red]MONITOR_DATABASE_URL is not set[/red] (a libpq URL of the database)")
        raise typer.Exit(cli.EXIT_CONFIG)
    out = Console()
    try:
        run(_rebuild(settings, config, since, until, out))
    except DatabaseUnavailable as exc:
        cli.err.print(f"[red]{exc}[/red]", markup=False)
        raise typer.Exit(1) from None


async def _rebuild(
    settings: Settings,
    config: Config | None,
    since: datetime,
    until: datetime | None,
    out: Console,
) -> None:
    assert settings.database_url is not None
    url = settings.database_url.get_secret_value()
    await wait_for_database(
        url, give_up_after=settings.connect_give_up_seconds or _CONNECT_GIVE_UP_SECONDS
    )
    await apply_migrations(url, timescaledb=settings.timescaledb)
    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        repo = RollupRepository(pool)
        scope = await _scope(repo, config)
        start = since.replace(tzinfo=scope.zone)
        now = datetime.now(UTC)
        end = until.replace(tzinfo=scope.zone) if until is not None else now
        local_end = end.astimezone(scope.zone)
        out.print(
            f"rebuilding rollups from {start:%Y-%m-%d %H:%M} to {local_end:%Y-%m-%d %H:%M}"
            f" ({scope.zone.key})",
            highlight=False,
        )
        began = time.monotonic()
        with _bar(out) as bar:
            task = bar.add_task("rolling up", total=None, bucket="")

            def progress(done: int, total: int, bucket: BucketRow) -> None:
                local = bucket.start.astimezone(scope.zone)
                label = f"{bucket.source} {bucket.resolution} {local:%Y-%m-%d %H:%M}"
                bar.update(task, completed=done, total=total, bucket=label)

            report = await RollupJob(repo).rebuild(scope, start, end, now, progress)
        _summary(out, report, scope.zone, time.monotonic() - began)
    finally:
        await pool.close()


async def _scope(repo: RollupRepository, config: Config | None) -> RollupScope:
    if config is not None:
        return RollupScope.of(config)
    # Without a config: the zone the rollups were made in; the series kinds remembered.
    return RollupScope(ZoneInfo(await repo.stored_timezone() or DEFAULT_TIMEZONE))


def _bar(out: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("buckets"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[bucket]}"),
        console=out,
    )


def _summary(out: Console, report: RollupReport, zone: ZoneInfo, seconds: float) -> None:
    table = Table(title="rollups rebuilt")
    for column in ("source", "resolution", "buckets"):
        table.add_column(column, justify="right" if column == "buckets" else "left")
    for (source, resolution), count in sorted(report.buckets.items()):
        table.add_row(source, resolution, f"{count:,}")
    out.print(table)
    out.print(
        f"rolled {report.total:,} buckets, {report.rows:,} rollup rows written in {seconds:.1f} s",
        highlight=False,
    )
    if report.empty:
        out.print(f"{report.empty:,} buckets lie in days without data: nothing to roll")
    if report.skipped_final:
        finals = [f for f in report.final_before.values() if f is not None]
        final = max(finals).astimezone(zone)
        out.print(
            f"skipped {report.skipped_final:,} buckets before {final:%Y-%m-%d}:"
            " their raw data is past retention, their rollups are kept as they are",
            highlight=False,
        )
