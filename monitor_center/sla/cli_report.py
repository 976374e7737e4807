"""``monitor-center sla report``: gather, render and write one month's report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from monitor_center.config import Config
from monitor_center.db import redact_url
from monitor_center.db.repositories.sla import SlaRepository
from monitor_center.sla.html_report import render_html
from monitor_center.sla.periods import Period, PeriodError
from monitor_center.sla.report import gather, render_csv

FORMATS = ("csv", "html")


class ReportError(Exception):
    """A request the report cannot answer (bad month, unknown agency...): exit 2."""


@dataclass(frozen=True, slots=True)
class ReportRequest:
    month: str
    agency: str | None
    """``None``: every active agency."""
    format: str = "csv"
    out: Path | None = None


def check(request: ReportRequest, config: Config) -> Period:
    """The local month asked for; ``ReportError`` for a bad month or format."""
    if request.format not in FORMATS:
        raise ReportError(f"--format must be csv or html, got {request.format!r}")
    try:
        return Period.month(request.month, config.center.zone)
    except PeriodError as exc:
        raise ReportError(str(exc)) from None


async def _render(url: str, config: Config, request: ReportRequest, period: Period) -> str:
    # Three connections: the SLA computation reads days, hours and raw results at once.
    pool = AsyncConnectionPool(url, min_size=1, max_size=3, open=False, kwargs={"autocommit": True})
    try:
        await pool.open(wait=True, timeout=15)
    except PoolTimeout:
        raise ConnectionError(f"database {redact_url(url)} unreachable") from None
    try:
        repo = SlaRepository(pool)
        scope = None if request.agency is None else [request.agency]
        if scope is not None and not await repo.agencies(scope):
            raise ReportError(f"no agency {request.agency!r} in the catalogue")
        data = await gather(repo, config, period, scope, datetime.now(UTC))
    finally:
        await pool.close()
    return render_csv(data) if request.format == "csv" else render_html(data)


async def write_report(url: str, config: Config, request: ReportRequest) -> None:
    """Write the report to ``request.out`` (UTF-8) or to stdout."""
    period = check(request, config)
    try:
        text = await _render(url, config, request, period)
    except psycopg.OperationalError as exc:
        raise ConnectionError(redact_url(str(exc).strip().splitlines()[0])) from None
    if request.out is None:
        sys.stdout.write(text)
    else:
        request.out.write_text(text, encoding="utf-8")
