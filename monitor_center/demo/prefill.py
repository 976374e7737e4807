"""Give the demo's database a past before the center starts: the schema and weeks of
simulated history (``backfill``, with a progress bar), so SLA reports and the scorecard
have something to show at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from rich.console import Console

from monitor_center.config import Config
from monitor_center.db import apply_migrations
from monitor_center.demo.agencies import AgencyInfo
from monitor_center.demo.backfill import BackfillReport, backfill, plan_for_fleet
from monitor_center.demo.fleet import FleetSimulator
from monitor_center.settings import Settings


async def prefill(
    out: Console,
    url: str,
    settings: Settings,
    config: Config,
    fleet: FleetSimulator,
    agencies: Sequence[AgencyInfo],
    *,
    days: float,
    seed: int,
) -> BackfillReport:
    """Migrate and write ``days`` of history up to now; print what was done."""
    await apply_migrations(url, timescaledb=settings.timescaledb)
    interval = min(e.interval for e in config.endpoints) if config.endpoints else timedelta(0)
    timeout = min(e.timeout for e in config.endpoints) if config.endpoints else timedelta(0)
    plan = plan_for_fleet(
        fleet,
        agencies,
        interval=interval.total_seconds(),
        timeout=timeout.total_seconds(),
        seed=seed,
    )
    end = datetime.now(UTC)
    report = await backfill(url, plan, start=end - timedelta(days=days), end=end, console=out)
    out.print(
        f"history        {days:g} days: {report.rows:,} rows ({report.new:,} new,"
        f" {len(report.outages)} incidents) in {report.seconds:.1f} s",
        markup=False,
        highlight=False,
    )
    # Rollups: not rolled here. Every COPY above left rollup marks (the triggers of
    # migration 0007), and the service's rollup loop starts with a full pass (retention
    # rolls what is owed first) that rolls exactly those buckets, in the background;
    # until it has, SLA reports read the raw rows, so they are right from the first
    # second. Rolling here first (RollupJob.run_pass) measured 243 s for 30 days on the
    # 2-core test machine, doubling the wait before the demo starts for no difference
    # in the numbers.
    return report
