"""What a report shows (gathered once), shared formatting, and the CSV rendering."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor_center.config import Config
from monitor_center.config.rules import EndpointDownRule
from monitor_center.db.repositories.sla import SlaRepository
from monitor_center.sla.availability import SlaQuery, compute_sla
from monitor_center.sla.incidents import DEFAULT_MIN_FAILURES
from monitor_center.sla.kpi import KpiAttainment, kpi_attainments
from monitor_center.sla.model import AgencySla, Figures, SlaReport
from monitor_center.sla.periods import Period

UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ReportData:
    center: str
    period: Period
    sla: SlaReport
    kpis: dict[str, list[KpiAttainment]]
    generated_at: datetime


def min_failures(config: Config) -> int:
    """Failed-probe runs count as incidents from the endpoint_down rule's threshold."""
    found = [r.failures for r in config.rules if isinstance(r, EndpointDownRule)]
    return min(found, default=DEFAULT_MIN_FAILURES)


async def gather(
    repo: SlaRepository,
    config: Config,
    period: Period,
    agencies: Sequence[str] | None,
    now: datetime,
) -> ReportData:
    """The SLA of the agencies (None: every active one) and their KPIs over ``period``."""
    query = SlaQuery(period, now, agencies, min_failures(config), days=True)
    report = await compute_sla(repo, query)
    kpis = await kpi_attainments(repo, config.series, period.start, period.end)
    return ReportData(config.center.name, period, report, kpis, now)


def fmt_percent(value: float | None, unknown: str = UNKNOWN) -> str:
    """Three decimals, never rounded up to a perfect 100 that was not."""
    if value is None:
        return unknown
    text = f"{value:.3f}"
    return "99.999" if text == "100.000" and value < 100 else text


def fmt_seconds(value: float | None) -> str:
    """``1 h 02 m``, ``3 m 20 s``, ``45 s``; ``-`` for no value."""
    if value is None:
        return "-"
    seconds = round(value)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} m"
    return f"{minutes} m {secs:02d} s" if minutes else f"{secs} s"


_AGENCY_COLUMNS = (
    "agency_availability_percent", "agency_downtime_seconds", "agency_unknown_seconds",
    "agency_maintenance_seconds", "agency_probes", "agency_failed", "agency_incidents",
    "agency_mtta_seconds", "agency_mttr_seconds",
)  # fmt: skip
COLUMNS = (
    "month", "timezone", "agency", "agency_name", "agency_kind", "endpoint",
    "availability_percent", "probes", "failed", "downtime_seconds", "known_seconds",
    "unknown_seconds", "maintenance_seconds", "incidents", *_AGENCY_COLUMNS,
)  # fmt: skip


def _figures(f: Figures) -> list[str]:
    return [
        fmt_percent(f.availability_percent),
        str(f.probes),
        str(f.failed),
        f"{f.downtime_seconds:.0f}",
        f"{f.known_seconds:.0f}",
        f"{f.unknown_seconds:.0f}",
        f"{f.maintenance_seconds:.0f}",
    ]


def _optional(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _agency_cells(a: AgencySla) -> list[str]:
    f = a.figures
    cells = _figures(f)
    return [
        cells[0], f"{f.downtime_seconds:.0f}", f"{f.unknown_seconds:.0f}",
        f"{f.maintenance_seconds:.0f}", str(f.probes), str(f.failed), str(len(a.incidents)),
        _optional(a.mtta_seconds), _optional(a.mttr_seconds),
    ]  # fmt: skip


def render_csv(data: ReportData) -> str:
    """One row per endpoint, each with its agency's totals (an agency without endpoints
    gets one row with an empty endpoint, so it is not silently missing)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    head = [data.period.label, data.sla.timezone]
    for a in data.sla.agencies:
        agency = [a.id, a.name, a.kind]
        totals = _agency_cells(a)
        for e in a.endpoints:
            writer.writerow([*head, *agency, e.id, *_figures(e.figures), str(e.incidents), *totals])
        if not a.endpoints:
            writer.writerow([*head, *agency, "", *_figures(Figures()), "0", *totals])
    return out.getvalue()
